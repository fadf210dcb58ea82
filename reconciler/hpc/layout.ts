import { createHash } from "node:crypto";
import type { Problem } from "../errors";
import type { HpcSpec } from "../model";
import type { DomainInputs, NetworkInputs, PoolInputs, VolumeInputs } from "../../stacks/providers/libvirt";
import { intToIp, parseCidr } from "./ipv4";

/** Every libvirt object of one cluster, named and addressed (pure: same spec, same layout). */
export interface ClusterLayout {
  name: string;
  uri: string;
  pool: PoolInputs;
  network: NetworkInputs;
  nodes: { domain: DomainInputs; volume: VolumeInputs; ip: string }[];
}

/** Node names: <cluster>-ctl, <cluster>-node-1..N. */
export function nodeNames(name: string, count: number): string[] {
  return [`${name}-ctl`, ...Array.from({ length: count }, (_, i) => `${name}-node-${i + 1}`)];
}

/** A fixed MAC per node: QEMU's 52:54:00 prefix, two bytes from the cluster name, then the node index. */
export function nodeMac(cluster: string, index: number): string {
  const h = createHash("sha256").update(cluster).digest();
  return ["52", "54", "00", h[0]!.toString(16).padStart(2, "0"), h[1]!.toString(16).padStart(2, "0"), index.toString(16).padStart(2, "0")].join(":");
}

/** First fixed address: .10 of the subnet; node i gets .10+i (the DHCP range is the upper half). */
const FIRST_HOST = 10;

export function planCluster(spec: HpcSpec, opts: { stopTimeoutSeconds?: number } = {}): ClusterLayout {
  const subnet = parseCidr(spec.network.cidr);
  const poolName = spec.pool?.name ?? `${spec.name}-pool`;
  const poolPath = spec.pool?.path ?? `/var/lib/libvirt/images/fleet-${spec.name}`;
  const networkName = `${spec.name}-net`;
  const names = nodeNames(spec.name, spec.compute.count);
  const nodes = names.map((node, i) => {
    const size = i === 0 ? spec.controller : spec.compute;
    const volumeName = `${node}.qcow2`;
    const mac = nodeMac(spec.name, i);
    const ip = intToIp(subnet.network + FIRST_HOST + i);
    return {
      ip,
      volume: { uri: spec.uri, pool: poolName, name: volumeName, baseImage: spec.baseImage, sizeGiB: size.diskGiB },
      domain: {
        uri: spec.uri,
        name: node,
        role: i === 0 ? ("controller" as const) : ("compute" as const),
        domainType: spec.domainType,
        vcpu: size.vcpu,
        memoryMiB: size.memoryMiB,
        diskPath: `${poolPath}/${volumeName}`,
        network: networkName,
        mac,
        hostdevs: i > 0 && spec.compute.gpus?.[i - 1] ? [spec.compute.gpus[i - 1]!] : [],
        powerState: spec.running ? ("running" as const) : ("shut-off" as const),
        stopTimeoutSeconds: opts.stopTimeoutSeconds ?? 30,
      },
    };
  });
  return {
    name: spec.name,
    uri: spec.uri,
    pool: { uri: spec.uri, name: poolName, path: poolPath },
    network: { uri: spec.uri, name: networkName, cidr: spec.network.cidr, hosts: nodes.map((n) => ({ name: n.domain.name, mac: n.domain.mac, ip: n.ip })) },
    nodes,
  };
}

/** What validation needs to know about the host (gathered by facts.ts). */
export interface ClusterFacts {
  baseImage: { readable: boolean; format?: string; virtualSizeGiB?: number; error?: string };
  /** Free space where the overlays go, GiB. */
  freeDiskGiB: number;
  hostCpus: number;
  hostMemoryMiB: number;
  /** Other libvirt networks' CIDRs (not this cluster's). */
  otherNetworks: { name: string; cidr: string }[];
  /** MACs used by domains outside this cluster. */
  usedMacs: { domain: string; mac: string }[];
  /** Objects of this cluster that already exist (then it is not a fresh cluster). */
  existing: { domains: string[]; network: boolean; pool: boolean; volumes: string[] };
}

/** Every problem with a cluster spec on this host, each naming its field (pure). */
export function clusterProblems(spec: HpcSpec, facts: ClusterFacts): Problem[] {
  const problems: Problem[] = [];
  const p = (field: string, message: string) => problems.push({ field: `hpc.${field}`, message });
  let subnet;
  try {
    subnet = parseCidr(spec.network.cidr);
  } catch (e) {
    p("network.cidr", (e as Error).message);
  }
  const c = spec.compute;
  if (c.min !== undefined && c.max !== undefined && c.min > c.max) p("compute.min", `must be <= compute.max (${c.max}), got ${c.min}`);
  if (c.min !== undefined && c.count < c.min) p("compute.count", `must be >= compute.min (${c.min}), got ${c.count}`);
  if (c.max !== undefined && c.count > c.max) p("compute.count", `must be <= compute.max (${c.max}), got ${c.count}`);
  if (c.gpus) {
    if (c.gpus.length < c.count) p("compute.gpus", `lists ${c.gpus.length} PCI devices for ${c.count} compute nodes: give one per node`);
    const dup = c.gpus.filter((g, i) => c.gpus!.indexOf(g) !== i);
    if (dup.length) p("compute.gpus", `lists ${[...new Set(dup)].join(", ")} more than once: a device passes through to one node`);
  }
  if (subnet && FIRST_HOST + c.count + 1 > subnet.size / 2) p("network.cidr", `${spec.network.cidr} has room for ${Math.max(0, subnet.size / 2 - FIRST_HOST - 1)} fixed addresses below its DHCP range, the cluster needs ${c.count + 1}: use a larger network`);

  for (const [field, size] of [["controller", spec.controller], ["compute", c]] as const) {
    if (size.vcpu > facts.hostCpus) p(`${field}.vcpu`, `${size.vcpu} vCPUs is more than this host has (${facts.hostCpus})`);
    if (size.memoryMiB > facts.hostMemoryMiB) p(`${field}.memoryMiB`, `${size.memoryMiB} MiB is more than this host has (${facts.hostMemoryMiB} MiB)`);
    if (facts.baseImage.virtualSizeGiB !== undefined && size.diskGiB < facts.baseImage.virtualSizeGiB) {
      p(`${field}.diskGiB`, `${size.diskGiB} GiB is smaller than the base image (${facts.baseImage.virtualSizeGiB.toFixed(1)} GiB)`);
    }
  }
  if (!facts.baseImage.readable) p("baseImage", `${spec.baseImage} is not a readable disk image${facts.baseImage.error ? ` (${facts.baseImage.error})` : ""}`);
  else if (facts.baseImage.format && !["qcow2", "raw"].includes(facts.baseImage.format)) p("baseImage", `format ${facts.baseImage.format} is not supported: use qcow2 or raw`);

  const layout = subnet ? planCluster(spec) : undefined;
  if (layout) {
    // Overlays are thin, but each may grow to its full size: check the worst case before creating anything.
    const fresh = new Set(facts.existing.volumes);
    const needGiB = layout.nodes.filter((n) => !fresh.has(n.volume.name)).reduce((a, n) => a + n.volume.sizeGiB, 0);
    if (needGiB > facts.freeDiskGiB) p("compute.diskGiB", `the overlays may grow to ${needGiB} GiB but ${layout.pool.path} has ${facts.freeDiskGiB.toFixed(1)} GiB free`);
    const macs = new Map(facts.usedMacs.map((m) => [m.mac, m.domain]));
    for (const n of layout.nodes) {
      const owner = macs.get(n.domain.mac);
      if (owner && owner !== n.domain.name) p("name", `node ${n.domain.name}'s MAC ${n.domain.mac} is used by domain ${owner}: rename the cluster`);
    }
    for (const other of facts.otherNetworks) {
      try {
        const o = parseCidr(other.cidr);
        if (subnet && o.network < subnet.network + subnet.size && subnet.network < o.network + o.size) p("network.cidr", `${spec.network.cidr} overlaps libvirt network ${other.name} (${other.cidr})`);
      } catch {
        /* a network we cannot parse cannot be compared */
      }
    }
  }
  return problems;
}
