/**
 * What every Fleet VM declares for safety by default, shared by the components (stacks/) and the
 * policy pack that checks them (policies/rules.ts).
 *
 * GCP: a Shielded VM (secure boot, vTPM, integrity monitoring: https://cloud.google.com/compute/
 * shielded-vm/docs/shielded-vm), OS Login on (ssh access through IAM, not keys in metadata) and the
 * project's own ssh keys blocked (https://cloud.google.com/compute/docs/connect/restrict-ssh-keys).
 * Keys a VM's own startup script installs for a local user (the standby's sync user) keep working.
 */
export const GCP_SHIELDED_VM = { enableSecureBoot: true, enableVtpm: true, enableIntegrityMonitoring: true } as const;
export const GCP_LOGIN_METADATA = { "enable-oslogin": "TRUE", "block-project-ssh-keys": "TRUE" } as const;
