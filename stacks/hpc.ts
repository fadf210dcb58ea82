import * as pulumi from "@pulumi/pulumi";
import { planCluster } from "../reconciler/hpc/layout";
import type { HpcSpec } from "../reconciler/model";
import { LibvirtDomain, LibvirtNetwork, LibvirtPool, LibvirtVolume } from "./providers/libvirt";

export interface HpcClusterArgs {
  spec: HpcSpec;
  /** Graceful shutdown time before power-off when `running` turns false. */
  stopTimeoutSeconds?: number;
}

/**
 * HpcCluster: a storage pool, a NAT network with a fixed address per node, and per node a qcow2
 * overlay of the base image and a domain. Nodes depend only on the pool and network, so Pulumi
 * creates them in parallel, and deletes domains before their volumes and the network.
 */
export class HpcCluster extends pulumi.ComponentResource {
  readonly nodes: pulumi.Output<{ name: string; role: string; ip: string; mac: string; state: string }[]>;
  readonly networkName: string;

  constructor(name: string, args: HpcClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:hpc:HpcCluster", name, {}, opts);
    const layout = planCluster(args.spec, { stopTimeoutSeconds: args.stopTimeoutSeconds });
    const pool = new LibvirtPool(layout.pool.name, layout.pool, { parent: this });
    const network = new LibvirtNetwork(layout.network.name, layout.network, { parent: this });
    const domains = layout.nodes.map((n) => {
      const volume = new LibvirtVolume(n.volume.name, n.volume, { parent: this, dependsOn: [pool] });
      return new LibvirtDomain(n.domain.name, n.domain, { parent: this, dependsOn: [volume, network] });
    });
    this.networkName = layout.network.name;
    this.nodes = pulumi.all(domains.map((d) => d.state)).apply((states) =>
      layout.nodes.map((n, i) => ({ name: n.domain.name, role: n.domain.role, ip: n.ip, mac: n.domain.mac, state: states[i] ?? "unknown" })),
    );
    this.registerOutputs({ nodes: this.nodes });
  }
}
