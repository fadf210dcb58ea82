import { poolGcpZone, poolInstanceName } from "../reconciler/pool-naming";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } from "../reconciler/model/hardening";
import * as pulumi from "@pulumi/pulumi";
import { IAP_SSH_TAG } from "../reconciler/model/network";
import type { GcpNetworkRef } from "./network";
import { LABELS, fleetLabels, type DesiredPool, type PoolPolicy } from "../reconciler/model";

export interface SpotPoolArgs {
  pool: DesiredPool;
  owner: string;
  policy: Pick<PoolPolicy, "awsImageId" | "awsSubnetId" | "gcpImage" | "diskGb">;
  /** Fleet's network for a GCP pool (stacks/network.ts); unused on AWS. */
  network?: GcpNetworkRef;
}

/** Logical name of the pool instance: one per pool, so a SWITCH creates the new instance before the old one is deleted. */
export { poolInstanceName };

export function poolLabels(p: DesiredPool, owner: string): Record<string, string> {
  const extra: Record<string, string> = p.market === "on-demand" ? { [LABELS.fallback]: "on-demand" } : {};
  return fleetLabels({ stack: pulumi.getStack(), area: "pool", owner, expiresAt: "never", hourUsd: p.hourUsd, extra });
}

/**
 * The EventBridge pattern of the interruption signals the reconciler reads from the queue: this
 * pool's instance only (the account's other instances send the same events to the default bus).
 */
export function interruptionEventPattern(instanceId: string) {
  return {
    source: ["aws.ec2"],
    "detail-type": ["EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation"],
    detail: { "instance-id": [instanceId] },
  };
}

/**
 * SpotPool: the one long-running instance of the pool area. AWS: a launch template with one-time
 * spot options that terminate on interruption (or none: the on-demand fallback), the instance, and
 * an EventBridge rule sending interruption warnings and rebalance recommendations to an SQS queue
 * the reconciler reads. GCP: a SPOT instance (or STANDARD for the fallback).
 */
export class SpotPool extends pulumi.ComponentResource {
  readonly instanceId: pulumi.Output<string>;
  readonly interruptionQueueUrl: pulumi.Output<string | undefined>;

  constructor(name: string, args: SpotPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:pool:SpotPool", name, {}, opts);
    const p = args.pool;
    const labels = poolLabels(p, args.owner);
    const instanceName = poolInstanceName(p);
    if (p.provider === "aws") {
      if (!args.policy.awsImageId) throw new Error("fleet:policy.pool.awsImageId is required for an AWS pool (an AMI id such as ami-0abcdef1234567890)");
      const provider = new aws.Provider(`${name}-${p.region}`, { region: p.region as aws.Region }, { parent: this });
      // The root volume is named by the AMI (/dev/xvda on Amazon Linux, /dev/sda1 on Ubuntu and
      // Debian): a mapping under another name attaches a second, empty volume and leaves root small.
      const ami = aws.ec2.getAmiOutput(
        { filters: [{ name: "image-id", values: [args.policy.awsImageId] }], includeDeprecated: true },
        { parent: this, provider },
      );
      const vpcId = args.policy.awsSubnetId
        ? aws.ec2.getSubnetOutput({ id: args.policy.awsSubnetId }, { parent: this, provider }).vpcId
        : undefined; // none: the region's default VPC, as EC2 places the instance there
      // A security group of Fleet's own: nothing comes in (Fleet never connects to the pool
      // instance), everything may go out; never the VPC's default group, whose rules others edit.
      const group = new aws.ec2.SecurityGroup(`${name}-sg`, {
        description: "Fleet pool instance: no inbound traffic",
        vpcId,
        egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
        tags: labels,
      }, { parent: this, provider });
      const template = new aws.ec2.LaunchTemplate(`${instanceName}-lt`, {
        imageId: args.policy.awsImageId,
        instanceType: p.instanceType,
        instanceMarketOptions: p.market === "spot" ? { marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } } : undefined,
        metadataOptions: { httpTokens: "required" },
        vpcSecurityGroupIds: [group.id],
        blockDeviceMappings: [{
          deviceName: ami.rootDeviceName,
          ebs: { volumeSize: args.policy.diskGb, volumeType: "gp3", deleteOnTermination: "true", encrypted: "true" },
        }],
        tags: labels,
        tagSpecifications: [{ resourceType: "instance", tags: labels }, { resourceType: "volume", tags: labels }],
      }, { parent: this, provider });
      const instance = new aws.ec2.Instance(instanceName, {
        launchTemplate: { id: template.id, version: "$Latest" },
        availabilityZone: p.zone || undefined,
        subnetId: args.policy.awsSubnetId ?? undefined,
        tags: labels,
      }, { parent: this, provider });
      const queue = new aws.sqs.Queue(`${name}-interruptions`, { messageRetentionSeconds: 3600, sqsManagedSseEnabled: true, tags: labels }, { parent: this, provider });
      const rule = new aws.cloudwatch.EventRule(`${name}-interruptions`, {
        eventPattern: instance.id.apply((id) => JSON.stringify(interruptionEventPattern(id))),
        tags: labels,
      }, { parent: this, provider });
      new aws.sqs.QueuePolicy(`${name}-interruptions`, {
        queueUrl: queue.url,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "events.amazonaws.com" }, Action: "sqs:SendMessage", Resource: queue.arn, Condition: { ArnEquals: { "aws:SourceArn": rule.arn } } }],
        }),
      }, { parent: this, provider });
      new aws.cloudwatch.EventTarget(`${name}-interruptions`, { rule: rule.name, arn: queue.arn }, { parent: this, provider });
      this.instanceId = instance.id;
      this.interruptionQueueUrl = queue.url;
    } else {
      const zone = poolGcpZone(p);
      if (!args.network) throw new Error("SpotPool: a GCP pool needs Fleet's network (stacks/network.ts)");
      const instance = new gcp.compute.Instance(instanceName, {
        name: instanceName,
        zone,
        machineType: p.instanceType,
        bootDisk: { autoDelete: true, initializeParams: { image: args.policy.gcpImage, size: args.policy.diskGb } },
        // No accessConfigs: no public address (out through Cloud NAT, in only through IAP).
        networkInterfaces: [{ network: args.network.selfLink }],
        tags: [IAP_SSH_TAG],
        scheduling:
          p.market === "spot"
            ? { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" }
            : { provisioningModel: "STANDARD", automaticRestart: true, onHostMaintenance: "MIGRATE" },
        labels,
        shieldedInstanceConfig: GCP_SHIELDED_VM,
        metadata: { ...GCP_LOGIN_METADATA },
        allowStoppingForUpdate: true,
      }, { parent: this, dependsOn: args.network.ready });
      this.instanceId = instance.instanceId;
      this.interruptionQueueUrl = pulumi.output(undefined);
    }
    this.registerOutputs({ instanceId: this.instanceId, interruptionQueueUrl: this.interruptionQueueUrl });
  }
}
