import { createHash } from "node:crypto";

/**
 * Fleet's own GCP network (stacks/network.ts), shared by the components and the policy pack.
 *
 * Every Fleet VM on GCP sits on a VPC Fleet makes for the stack, never the project's `default`
 * network: that one comes with rules Fleet does not own (`default-allow-ssh`, `-rdp`, `-icmp`,
 * `-internal` from anywhere: https://cloud.google.com/vpc/docs/firewalls#more_rules_default_vpc)
 * that anyone with compute rights may widen. A network made through the API has no rules at all,
 * so ingress is denied unless Fleet declares a rule (https://cloud.google.com/vpc/docs/firewalls#default_firewall_rules).
 */

/** A VPC name per project and stack (two stacks in one project get two networks). RFC 1035, <= 63. */
export function fleetNetworkName(project: string, stack: string): string {
  return `fleet-net-${createHash("sha256").update(`${project}/${stack}`).digest("hex").slice(0, 10)}`;
}

/**
 * The source range of Identity-Aware Proxy TCP forwarding (https://cloud.google.com/iap/docs/using-tcp-forwarding):
 * the one way in to a burst or pool VM, which have no public address. Who may tunnel is IAM's
 * decision (roles/iap.tunnelResourceAccessor), and who may log in OS Login's.
 */
export const IAP_TCP_RANGE = "35.235.240.0/20";

/** The network tag of VMs that accept ssh through IAP (burst and pool VMs). */
export const IAP_SSH_TAG = "fleet-iap-ssh";

/** A GCP region from a zone (`us-central1-a` -> `us-central1`). */
export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, "");
}

/**
 * Which Fleet VMs get a public address: only a GCP standby, which its GPU on Vast dials over the
 * internet (its firewall admits the GPU's address alone). Burst and pool VMs reach out through
 * Cloud NAT and are reached only through IAP.
 */
export const PUBLIC_IP_AREAS: readonly string[] = ["standby"];

/** Whether a network name or link names a network Fleet made (fleetNetworkName). */
export function isFleetNetwork(network: string): boolean {
  return /^fleet-net-[0-9a-f]{10}$/.test(network.split("/").pop() ?? "");
}
