import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { IAP_SSH_TAG, IAP_TCP_RANGE, fleetNetworkName } from "../reconciler/model/network";

/** What a component needs of Fleet's network: where its VMs go, and what they must wait for. */
export interface GcpNetworkRef {
  selfLink: pulumi.Input<string>;
  ready: pulumi.Resource[];
}

export interface FleetNetworkArgs {
  /** Regions whose VMs have no public address and so need Cloud NAT to reach the internet. */
  natRegions: string[];
  /** GCP project (for the network's name); defaults to the provider's `gcp:project`. */
  project?: string;
}

/**
 * FleetNetwork: the stack's own VPC (reconciler/model/network.ts) with subnets made by GCP in every
 * region (auto mode, so any allowed zone works), a Cloud Router and NAT per region whose VMs need
 * outbound access without a public address, and one ingress rule: ssh from IAP to burst and pool
 * VMs. Each component adds its own narrower rules (the standby's GPU allow).
 */
export class FleetNetwork extends pulumi.ComponentResource implements GcpNetworkRef {
  /** The network's self link, for networkInterfaces[].network and firewall rules. */
  readonly selfLink: pulumi.Output<string>;
  /** What a VM must wait for: the network and the NAT of every region. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: FleetNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:network:FleetNetwork", name, {}, opts);
    const project = args.project ?? gcp.config.project ?? "";
    const network = new gcp.compute.Network(
      `${name}-vpc`,
      {
        name: fleetNetworkName(project, pulumi.getStack()),
        autoCreateSubnetworks: true,
        description: `Fleet stack ${pulumi.getStack()}: only the firewall rules Fleet declares`,
      },
      { parent: this },
    );
    this.selfLink = network.selfLink;
    const iap = new gcp.compute.Firewall(
      `${name}-iap-ssh`,
      {
        network: network.selfLink,
        direction: "INGRESS",
        sourceRanges: [IAP_TCP_RANGE],
        allows: [{ protocol: "tcp", ports: ["22"] }],
        targetTags: [IAP_SSH_TAG],
      },
      { parent: this },
    );
    const nats = [...new Set(args.natRegions)].sort().map((region) => {
      const router = new gcp.compute.Router(
        `${name}-router-${region}`,
        {
          region,
          network: network.selfLink,
          description: "Fleet: Cloud NAT for VMs without a public address",
        },
        { parent: this },
      );
      return new gcp.compute.RouterNat(
        `${name}-nat-${region}`,
        {
          region,
          router: router.name,
          natIpAllocateOption: "AUTO_ONLY",
          sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
        },
        { parent: this },
      );
    });
    this.ready = [network, iap, ...nats];
    this.registerOutputs({ selfLink: this.selfLink });
  }
}
