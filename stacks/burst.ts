import { createHash } from "node:crypto";
import * as gcp from "@pulumi/gcp";
import { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } from "../reconciler/model/hardening";
import * as pulumi from "@pulumi/pulumi";
import { fleetLabels, type BurstPolicy, type BurstVmSpec } from "../reconciler/model";
import { IAP_SSH_TAG } from "../reconciler/model/network";
import type { GcpNetworkRef } from "./network";
import { renderShellTemplate } from "./template";

export interface BurstPoolArgs {
  vms: BurstVmSpec[];
  owner: string;
  policy: Pick<BurstPolicy, "namePrefix" | "image" | "diskGb">;
  /** Fleet's network (stacks/network.ts): no public address, out through its Cloud NAT. */
  network?: GcpNetworkRef;
  /** GCP project for the service account's role bindings; defaults to the provider's `gcp:project`. */
  project?: string;
  /** Load average at which the VM reports itself busy (idle detection). */
  busyLoad?: number;
}

/** Roles a burst VM needs: write its logs and metrics. Nothing else. */
export const BURST_VM_ROLES = ["roles/logging.logWriter", "roles/monitoring.metricWriter"] as const;

/**
 * The burst VMs' service account id: one per stack (two stacks in one project must not share or
 * delete each other's account), valid for any name prefix. IAM wants 6-30 characters matching
 * [a-z]([-a-z0-9]*[a-z0-9]) (iam.v1 CreateServiceAccountRequest.accountId): the prefix (cut to 15,
 * trailing hyphens dropped), a hyphen and 8 hex characters of the stack's name.
 */
export function burstAccountId(namePrefix: string, stack: string): string {
  const head = namePrefix.slice(0, 15).replace(/-+$/, "");
  return `${head}-${createHash("sha256").update(stack).digest("hex").slice(0, 8)}`;
}

/** GCP label value for a time: lowercase, no colons. */
export function labelTime(isoTime: string): string {
  return new Date(Date.parse(isoTime)).toISOString().slice(0, 19).replace(/:/g, "-").toLowerCase() + "z";
}

/**
 * BurstPool: the burst area's GCP Spot VMs, one per desired VM, with a dedicated least-privilege
 * service account. Spot with DELETE on preemption and at the max run duration (the VM's lifetime),
 * no automatic restart; labels managed-by, fleet-area, owner, expires-at.
 */
export class BurstPool extends pulumi.ComponentResource {
  readonly vmNames: pulumi.Output<string[]>;
  /** Empty when there are no VMs (then no service account exists either). */
  readonly serviceAccountEmail: pulumi.Output<string>;
  readonly instances: gcp.compute.Instance[];

  constructor(name: string, args: BurstPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:burst:BurstPool", name, {}, opts);
    const project = args.project ?? gcp.config.project;
    this.vmNames = pulumi.output(args.vms.map((v) => v.name));
    if (args.vms.length === 0) {
      // No VMs, no identity: a stack with burst at 0 makes no GCP calls at all.
      this.instances = [];
      this.serviceAccountEmail = pulumi.output("");
      this.registerOutputs({ vmNames: this.vmNames, serviceAccountEmail: this.serviceAccountEmail });
      return;
    }

    if (!args.network) throw new Error("BurstPool: burst VMs need Fleet's network (stacks/network.ts)");
    const network = args.network;
    const sa = new gcp.serviceaccount.Account(`${name}-sa`, {
      accountId: burstAccountId(args.policy.namePrefix, pulumi.getStack()),
      displayName: `Fleet burst VMs (${args.owner})`,
      description: "Runs Fleet burst VMs: logging and monitoring writes only.",
    }, { parent: this });
    const bindings = BURST_VM_ROLES.map((role) =>
      new gcp.projects.IAMMember(`${name}-${role.split("/")[1]}`, {
        project: project ?? pulumi.output(sa.project),
        role,
        member: pulumi.interpolate`serviceAccount:${sa.email}`,
      }, { parent: this }),
    );

    this.instances = args.vms.map((vm) => {
      const lifetimeSeconds = Math.max(1, Math.round((Date.parse(vm.expiresAt) - Date.parse(vm.createdAt)) / 1000));
      return new gcp.compute.Instance(vm.name, {
        name: vm.name,
        zone: vm.zone,
        machineType: vm.machineType,
        bootDisk: { autoDelete: true, initializeParams: { image: args.policy.image, size: args.policy.diskGb } },
        // No accessConfigs: no public address (out through Cloud NAT, in only through IAP).
        networkInterfaces: [{ network: network.selfLink }],
        tags: [IAP_SSH_TAG],
        scheduling: {
          provisioningModel: "SPOT",
          preemptible: true,
          automaticRestart: false,
          onHostMaintenance: "TERMINATE",
          instanceTerminationAction: "DELETE",
          maxRunDuration: { seconds: lifetimeSeconds },
        },
        serviceAccount: { email: sa.email, scopes: ["https://www.googleapis.com/auth/cloud-platform"] },
        labels: fleetLabels({ stack: pulumi.getStack(), area: "burst", owner: args.owner, expiresAt: labelTime(vm.expiresAt), hourUsd: vm.spotHourUsd }),
        // The startup script as metadata, not metadataStartupScript: the provider replaces the VM
        // when that field changes (ForceNew in resource_compute_instance.go), so editing the
        // template would recreate every VM; metadata is updated in place.
        shieldedInstanceConfig: GCP_SHIELDED_VM,
        metadata: {
          ...GCP_LOGIN_METADATA,
          "enable-guest-attributes": "TRUE",
          "startup-script": renderShellTemplate("burst-startup.sh", { NAME: vm.name, OWNER: args.owner, EXPIRES_AT: vm.expiresAt, BUSY_LOAD: args.busyLoad ?? 0.5 }),
        },
        allowStoppingForUpdate: true,
      }, { parent: this, dependsOn: [...bindings, ...network.ready] });
    });

    this.serviceAccountEmail = sa.email;
    this.registerOutputs({ vmNames: this.vmNames, serviceAccountEmail: this.serviceAccountEmail });
  }
}
