import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { DesiredPool, PoolObserved, Usage } from "../model";
import { labelValue } from "../sweep/orphans";
import { readAwsUsage, readInterruption } from "./pool-aws";

/** What one cycle observes of the pool instance: its state (with interruption signals) and its usage. */
export interface PoolObservation {
  actual: PoolObserved | null;
  usage: Usage | null;
}

export interface AwsPoolClients {
  ec2: (region: string) => EC2Client;
  sqs: (region: string) => SQSClient;
  cloudwatch: (region: string) => CloudWatchClient;
}

export const awsPoolClients: AwsPoolClients = {
  ec2: (region) => new EC2Client({ region, maxAttempts: 3 }),
  sqs: (region) => new SQSClient({ region, maxAttempts: 3 }),
  cloudwatch: (region) => new CloudWatchClient({ region, maxAttempts: 3 }),
};

const STATES: Record<string, PoolObserved["state"]> = { pending: "pending", running: "running", stopping: "stopped", stopped: "stopped", "shutting-down": "terminated", terminated: "terminated" };

/**
 * The AWS pool instance as it is, found by its tags (managed-by=fleet, fleet-area=pool, fleet-stack)
 * rather than by stack outputs, so no engine is needed; its interruption queue is found by the
 * name prefix the SpotPool component gives it ("pool-interruptions"). No instance -> state missing.
 */
export async function observeAwsPool(pool: DesiredPool, stack: string, clients: AwsPoolClients, atMs: number): Promise<PoolObservation> {
  const ec2 = clients.ec2(pool.region);
  const r = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "tag:managed-by", Values: ["fleet"] },
        { Name: "tag:fleet-area", Values: ["pool"] },
        { Name: "tag:fleet-stack", Values: [labelValue(stack)] },
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped", "shutting-down"] },
      ],
    }),
  );
  const instances = (r.Reservations ?? []).flatMap((x) => x.Instances ?? []).filter((i) => i.InstanceId);
  // Create-before-delete can leave two for a moment: the newest is the pool's instance.
  const inst = instances.sort((a, b) => (b.LaunchTime?.getTime() ?? 0) - (a.LaunchTime?.getTime() ?? 0))[0];
  if (!inst) return { actual: { instanceId: "none", state: "missing", interruption: "none" }, usage: null };
  const instanceId = inst.InstanceId!;
  const sqs = clients.sqs(pool.region);
  const queues = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: "pool-interruptions" }));
  const queueUrl = queues.QueueUrls?.[0];
  const [interruption, usage] = await Promise.all([
    queueUrl ? readInterruption(sqs, queueUrl, instanceId, atMs) : Promise.resolve("none" as const),
    readAwsUsage(clients.cloudwatch(pool.region), instanceId, atMs),
  ]);
  return { actual: { instanceId, state: STATES[inst.State?.Name ?? ""] ?? "pending", interruption }, usage };
}
