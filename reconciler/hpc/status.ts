import { Virsh } from "../../stacks/providers/libvirt-client";
import type { HpcSpec } from "../model";
import { planCluster } from "./layout";

export interface NodeStatus {
  name: string;
  role: "controller" | "compute";
  /** libvirt's state, or "missing" when the domain does not exist. */
  state: string;
  vcpu: number | null;
  memoryMiB: number | null;
  /** From the network's DHCP lease; null when there is none (no OS, or not booted yet). */
  leaseIp: string | null;
  fixedIp: string;
  mac: string;
  diskPath: string | null;
}

export interface ClusterStatus {
  name: string;
  uri: string;
  network: { name: string; exists: boolean; active: boolean };
  nodes: NodeStatus[];
  /** Domains named like this cluster's nodes that the spec does not have (e.g. after a scale-down that failed). */
  strays: string[];
}

/** The cluster as libvirt reports it, read directly (no Pulumi state involved). */
export async function readClusterStatus(spec: HpcSpec): Promise<ClusterStatus> {
  const layout = planCluster(spec);
  const v = new Virsh(spec.uri);
  const [netXml, leases, all] = await Promise.all([v.networkXml(layout.network.name), v.leases(layout.network.name), v.listDomains()]);
  const nodes = await Promise.all(
    layout.nodes.map(async (n): Promise<NodeStatus> => {
      const x = await v.domainXml(n.domain.name, true);
      const state = x ? ((await v.domainState(n.domain.name)) ?? "unknown") : "missing";
      const mem = x?.memory;
      const memKiB = x ? Number(typeof mem === "object" ? mem["#text"] : mem) : NaN;
      return {
        name: n.domain.name,
        role: n.domain.role,
        state,
        vcpu: x ? Number(typeof x.vcpu === "object" ? x.vcpu["#text"] : x.vcpu) : null,
        memoryMiB: Number.isFinite(memKiB) ? Math.round(memKiB / 1024) : null,
        leaseIp: leases.get(n.domain.mac) ?? null,
        fixedIp: n.ip,
        mac: n.domain.mac,
        diskPath: x?.devices?.disk?.[0]?.source?.["@file"] ?? null,
      };
    }),
  );
  const ours = new Set(layout.nodes.map((n) => n.domain.name));
  const strays = all.filter((d) => !ours.has(d) && (d === `${spec.name}-ctl` || d.startsWith(`${spec.name}-node-`)));
  return { name: spec.name, uri: spec.uri, network: { name: layout.network.name, exists: !!netXml, active: netXml ? await v.networkActive(layout.network.name) : false }, nodes, strays };
}
