import { LABELS, MANAGED_BY, REQUIRED_LABELS } from "../reconciler/model/labels";
import { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } from "../reconciler/model/hardening";
import { PUBLIC_IP_AREAS, isFleetNetwork } from "../reconciler/model/network";

/**
 * Fleet's guard rails as pure functions over a resource's type and properties (no @pulumi/policy
 * here, so they are tested by calling them). policies.ts wraps them as CrossGuard policies.
 * Price: every fleet VM carries its hourly price in micro-USD in the `fleet-hour-microusd`
 * label (GCP) or tag (AWS); a VM without it is a violation, so an unpriced VM cannot slip through.
 */

export type Props = Record<string, any>;
export interface Resource {
  type: string;
  props: Props;
  urn?: string;
}

// The label contract the components write (reconciler/model/labels.ts).
export { REQUIRED_LABELS };
export const PRICE_LABEL = LABELS.hourMicroUsd;
export const FALLBACK_LABEL = LABELS.fallback;

const GCP_INSTANCE = "gcp:compute/instance:Instance";
const AWS_INSTANCE = "aws:ec2/instance:Instance";
const AWS_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const HPC_DOMAIN = "pulumi-nodejs:dynamic/fleet:LibvirtDomain";
const VAST_INSTANCE = "pulumi-nodejs:dynamic/fleet:VastInstance";

export function isVm(r: Resource): boolean {
  return [GCP_INSTANCE, AWS_INSTANCE, VAST_INSTANCE].includes(r.type);
}

/** Labels (GCP) or tags (AWS; launch templates through their tag specifications). */
export function labelsOf(r: Resource): Record<string, string> {
  if (r.type === GCP_INSTANCE) return r.props.labels ?? {};
  if (r.type === AWS_INSTANCE) return r.props.tags ?? {};
  if (r.type === AWS_LAUNCH_TEMPLATE) return Object.assign({}, r.props.tags ?? {}, ...((r.props.tagSpecifications ?? []) as Props[]).map((t) => t.tags ?? {}));
  if (r.type === VAST_INSTANCE) return r.props.labels ?? {};
  return {};
}

export function hourlyUsdOf(r: Resource): number | undefined {
  const raw = labelsOf(r)[PRICE_LABEL];
  if (raw === undefined || !/^\d+$/.test(String(raw))) return undefined;
  return Number(raw) / 1e6;
}

export function areaOf(r: Resource): string | undefined {
  if (r.type === HPC_DOMAIN) return "hpc";
  return labelsOf(r)[LABELS.area];
}

/** spot-only: fleet VMs are Spot unless the desired state marked an on-demand fallback. */
export function spotOnlyViolations(r: Resource): string[] {
  const fallback = labelsOf(r)[FALLBACK_LABEL] === "on-demand";
  if (r.type === GCP_INSTANCE) {
    const model = r.props.scheduling?.provisioningModel;
    if (model !== "SPOT" && !fallback) return [`instance is ${model ?? "STANDARD"}, not SPOT, and is not marked ${FALLBACK_LABEL}=on-demand`];
  }
  if (r.type === AWS_INSTANCE || r.type === AWS_LAUNCH_TEMPLATE) {
    // An instance launched from a template with no market options of its own gets the template's
    // market (EC2 RunInstances); the template is checked as a resource of its own.
    if (r.type === AWS_INSTANCE && r.props.launchTemplate && !r.props.instanceMarketOptions) return [];
    const market = r.props.instanceMarketOptions?.marketType;
    if (market !== "spot" && !fallback) return [`${r.type === AWS_INSTANCE ? "instance" : "launch template"} market is ${market ?? "on-demand"}, not spot, and is not marked ${FALLBACK_LABEL}=on-demand`];
  }
  return [];
}

export function maxHourlyPriceViolations(r: Resource, maxHourlyUsd: number): string[] {
  if (!isVm(r)) return [];
  const usd = hourlyUsdOf(r);
  if (usd === undefined) return [`VM has no ${PRICE_LABEL} label/tag: its price cannot be checked`];
  return usd > maxHourlyUsd ? [`VM costs $${usd}/h, above the limit of $${maxHourlyUsd}/h`] : [];
}

export function requiredLabelViolations(r: Resource): string[] {
  if (!isVm(r) && r.type !== AWS_LAUNCH_TEMPLATE && r.type !== "gcp:compute/disk:Disk") return [];
  const labels = r.type === "gcp:compute/disk:Disk" ? (r.props.labels ?? {}) : labelsOf(r);
  const missing = REQUIRED_LABELS.filter((k) => !labels[k]);
  const by = labels[LABELS.managedBy];
  const wrongOwner = by && by !== MANAGED_BY ? [`label ${LABELS.managedBy} is '${by}', must be '${MANAGED_BY}'`] : [];
  return [...(missing.length ? [`missing required label(s): ${missing.join(", ")}`] : []), ...wrongOwner];
}

/**
 * Source ranges too wide to be "known addresses", by CIDR arithmetic over their union: more than a
 * /8 of IPv4 (16.7 M addresses; 0.0.0.0/1 + 128.0.0.0/1 is the whole internet too) or an IPv6
 * prefix of /32 or wider. A range that does not parse counts as open (fail closed).
 */
const MAX_IPV4_ADDRESSES = 2 ** 24;
const MIN_IPV6_PREFIX = 33;

function ipv4Range(cidr: string): [number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr.trim());
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return null;
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ip / size) * size;
  return [start, start + size - 1];
}

/** Why these source ranges open a port to the internet, or null. */
export function worldOpen(ranges: readonly (string | undefined)[]): string | null {
  const v4: [number, number][] = [];
  for (const raw of ranges) {
    if (raw === undefined || raw === null) continue;
    const c = String(raw).trim();
    if (c.includes(":")) {
      const bits = Number(/\/(\d{1,3})$/.exec(c)?.[1] ?? 128);
      if (!/^[0-9a-f:.]+(\/\d{1,3})?$/i.test(c) || bits < MIN_IPV6_PREFIX) return `${c} (IPv6 /${bits})`;
      continue;
    }
    const r = ipv4Range(c);
    if (!r) return `${c} (not a CIDR range)`;
    v4.push(r);
  }
  v4.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let cur: [number, number] | null = null;
  for (const r of v4) {
    if (cur && r[0] <= cur[1] + 1) cur[1] = Math.max(cur[1], r[1]);
    else {
      if (cur) total += cur[1] - cur[0] + 1;
      cur = [r[0], r[1]];
    }
  }
  if (cur) total += cur[1] - cur[0] + 1;
  return total > MAX_IPV4_ADDRESSES ? `${v4.length} IPv4 range(s) covering ${total} addresses` : null;
}

function portRangeHas22(spec: string | number | undefined): boolean {
  if (spec === undefined || spec === "") return true; // no ports: every port
  const s = String(spec).trim();
  if (s.includes("-")) {
    const [a, b] = s.split("-").map(Number);
    return !(a! > 22 || 22 > b!); // a range that does not parse counts as including 22
  }
  return Number(s) === 22 || !Number.isFinite(Number(s));
}

/** A protocol that carries ssh: tcp by any spelling, or every protocol. */
function carriesSsh(protocol: unknown): boolean {
  return ["tcp", "6", "all", "-1"].includes(String(protocol ?? "all").trim().toLowerCase());
}

function awsRuleOpensSsh(rule: Props): string | null {
  const open = worldOpen([...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? []), rule.cidrIpv4, rule.cidrIpv6]);
  if (!open) return null;
  const proto = String(rule.protocol ?? rule.ipProtocol ?? "-1").toLowerCase();
  if (!carriesSsh(proto)) return null;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return proto === "-1" || proto === "all" || (from <= 22 && 22 <= to) ? open : null;
}

/** No firewall rule or security group may open SSH to the whole internet (CIDR arithmetic, see worldOpen). */
export function sshOpenToWorldViolations(r: Resource): string[] {
  const msg = (what: string, open: string) => [`${what} opens SSH (tcp/22) to the internet (${open}): allow only known source addresses`];
  if (r.type === "gcp:compute/firewall:Firewall") {
    const ingress = String(r.props.direction ?? "INGRESS").toUpperCase() === "INGRESS";
    const open = worldOpen(r.props.sourceRanges ?? []);
    const ssh = ((r.props.allows ?? []) as Props[]).some((a) => carriesSsh(a.protocol) && (a.ports === undefined || a.ports.length === 0 || a.ports.some(portRangeHas22)));
    return ingress && open && ssh ? msg("firewall", open) : [];
  }
  if (r.type === "aws:ec2/securityGroup:SecurityGroup") {
    const open = ((r.props.ingress ?? []) as Props[]).map(awsRuleOpensSsh).find((x) => x);
    return open ? msg("security group", open) : [];
  }
  if (r.type === "aws:ec2/securityGroupRule:SecurityGroupRule") {
    const open = r.props.type === "ingress" ? awsRuleOpensSsh(r.props) : null;
    return open ? msg("security group rule", open) : [];
  }
  if (r.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") {
    const open = awsRuleOpensSsh(r.props);
    return open ? msg("ingress rule", open) : [];
  }
  return [];
}

const truthy = (v: unknown) => v === true || String(v).toLowerCase() === "true";

/**
 * GCP VMs are safe by default (reconciler/model/hardening.ts): a Shielded VM with every protection
 * on, OS Login on and the project's ssh keys blocked.
 */
export function gcpHardeningViolations(r: Resource): string[] {
  if (r.type !== GCP_INSTANCE) return [];
  const out: string[] = [];
  const shielded = r.props.shieldedInstanceConfig ?? {};
  const off = Object.keys(GCP_SHIELDED_VM).filter((k) => !truthy(shielded[k]));
  if (off.length) out.push(`shieldedInstanceConfig: ${off.join(", ")} must be true (a Shielded VM)`);
  const md = r.props.metadata ?? {};
  for (const [k, v] of Object.entries(GCP_LOGIN_METADATA))
    if (String(md[k] ?? "").toUpperCase() !== v) out.push(`metadata '${k}' must be '${v}'`);
  return out;
}

/**
 * GCP VMs and firewall rules live on Fleet's own network (reconciler/model/network.ts), never on one
 * whose rules Fleet does not own (the project's `default`), and only a standby has a public address.
 * A network not yet known (a preview before the network exists) is checked on the update.
 */
export function gcpNetworkViolations(r: Resource): string[] {
  const foreign = (net: unknown) => typeof net === "string" && !isFleetNetwork(net);
  const fix = "use Fleet's own network (stacks/network.ts), whose only firewall rules are Fleet's";
  if (r.type === "gcp:compute/firewall:Firewall")
    return foreign(r.props.network) ? [`firewall rule on network '${r.props.network}', which Fleet does not own: ${fix}`] : [];
  if (r.type !== GCP_INSTANCE) return [];
  const out: string[] = [];
  const nics = (r.props.networkInterfaces ?? []) as Props[];
  nics.forEach((nic, i) => {
    if (foreign(nic.network)) out.push(`networkInterfaces[${i}].network '${nic.network}' is not Fleet's: ${fix}`);
    if ((nic.accessConfigs ?? []).length && !PUBLIC_IP_AREAS.includes(areaOf(r) ?? ""))
      out.push(`networkInterfaces[${i}] has a public address: only a standby needs one (burst and pool VMs go out through Cloud NAT)`);
  });
  return out;
}

/**
 * AWS instances and launch templates: every EBS volume encrypted, and a security group named
 * (never the VPC's default group, which anyone with EC2 rights in the account may open up).
 */
export function awsHardeningViolations(r: Resource): string[] {
  if (r.type !== AWS_INSTANCE && r.type !== AWS_LAUNCH_TEMPLATE) return [];
  // An instance launched from a template gets its volumes and groups there; the template is checked.
  if (r.type === AWS_INSTANCE && r.props.launchTemplate) return [];
  const out: string[] = [];
  const volumes: Props[] =
    r.type === AWS_LAUNCH_TEMPLATE
      ? ((r.props.blockDeviceMappings ?? []) as Props[]).map((m) => m.ebs).filter(Boolean)
      : [r.props.rootBlockDevice ?? {}, ...((r.props.ebsBlockDevices ?? []) as Props[])];
  if (r.type === AWS_LAUNCH_TEMPLATE && volumes.length === 0) out.push("no block device mapping: the root volume is not declared encrypted");
  if (volumes.some((v) => !truthy(v.encrypted))) out.push("an EBS volume is not encrypted");
  const nicGroups = ((r.props.networkInterfaces ?? []) as Props[]).flatMap((n) => n.securityGroups ?? []);
  const groups = [...(r.props.vpcSecurityGroupIds ?? []), ...(r.props.securityGroups ?? []), ...nicGroups];
  if (groups.length === 0) out.push("no security group of Fleet's: the VPC's default group would apply");
  return out;
}

/** Stack: at most N VMs per area (hpc counts its domains). */
export function maxVmsPerAreaViolations(resources: Resource[], maxPerArea: Record<string, number>): string[] {
  const counts = new Map<string, number>();
  for (const r of resources) {
    if (!isVm(r) && r.type !== HPC_DOMAIN) continue;
    const area = areaOf(r) ?? "unlabelled";
    counts.set(area, (counts.get(area) ?? 0) + 1);
  }
  return [...counts].filter(([area, n]) => maxPerArea[area] !== undefined && n > maxPerArea[area]!).map(([area, n]) => `${n} VMs in area ${area}, above the limit of ${maxPerArea[area]}`);
}

/** Stack: the fleet's summed hourly price stays under the cap. */
export function fleetHourlyCapViolations(resources: Resource[], maxFleetHourlyUsd: number): string[] {
  const vms = resources.filter(isVm);
  const unpriced = vms.filter((r) => hourlyUsdOf(r) === undefined);
  const total = vms.reduce((a, r) => a + (hourlyUsdOf(r) ?? 0), 0);
  const out: string[] = [];
  if (unpriced.length) out.push(`${unpriced.length} VM(s) without a ${PRICE_LABEL} label: the fleet's hourly cost cannot be checked`);
  if (total > maxFleetHourlyUsd + 1e-9) out.push(`the fleet costs $${Math.round(total * 1e6) / 1e6}/h, above the cap of $${maxFleetHourlyUsd}/h`);
  return out;
}
