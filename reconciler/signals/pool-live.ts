import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { ListQueueTagsCommand, paginateListQueues, SQSClient } from "@aws-sdk/client-sqs";
import type { DesiredPool, PoolObserved, Usage } from "../model";
import { labelValue } from "../sweep/orphans";
import { gcpCall, GcpHttpError, type GcpAuth } from "../gcp/rest";
import { poolGcpZone, poolInstanceName } from "../pool-naming";
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

/**
 * The stack's interruption queue: named by the SpotPool component ("pool-interruptions-…") and
 * tagged with the stack, so another stack's pool in the same account and region is never read.
 */
export async function stackInterruptionQueue(sqs: SQSClient, stack: string): Promise<string | undefined> {
  for await (const page of paginateListQueues({ client: sqs }, { QueueNamePrefix: "pool-interruptions", MaxResults: 1000 })) {
    for (const url of page.QueueUrls ?? []) {
      const tags = (await sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags ?? {};
      if (tags["managed-by"] === "fleet" && tags["fleet-stack"] === labelValue(stack)) return url;
    }
  }
  return undefined;
}

const STATES: Record<string, PoolObserved["state"]> = { pending: "pending", running: "running", stopping: "stopped", stopped: "stopped", "shutting-down": "terminated", terminated: "terminated" };

/**
 * The AWS pool instance as it is, found by its tags (managed-by=fleet, fleet-area=pool, fleet-stack)
 * rather than by stack outputs, so no engine is needed; its interruption queue by its name prefix
 * and stack tag. No instance -> state missing.
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
  const queueUrl = await stackInterruptionQueue(sqs, stack);
  const [interruption, usage] = await Promise.all([
    queueUrl ? readInterruption(sqs, queueUrl, instanceId, atMs) : Promise.resolve("none" as const),
    readAwsUsage(clients.cloudwatch(pool.region), instanceId, atMs),
  ]);
  return { actual: { instanceId, state: STATES[inst.State?.Name ?? ""] ?? "pending", interruption }, usage };
}

const ALIGNMENT_SECONDS = 300;

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const GCP_STATES: Record<string, PoolObserved["state"]> = { PROVISIONING: "pending", STAGING: "pending", RUNNING: "running", STOPPING: "stopped", SUSPENDING: "stopped", SUSPENDED: "stopped", TERMINATED: "stopped" };

/**
 * The GCP pool instance (by its name, which follows from the pool) and its usage from Cloud
 * Monitoring: CPU utilization p95 (compute.googleapis.com, a fraction) and, when the Ops Agent
 * reports it, memory percent used p95, each the p95 of the window's 5-minute means. A 404 is "missing".
 */
export async function observeGcpPool(pool: DesiredPool, auth: GcpAuth, bases: { compute: string; monitoring: string }, atMs: number, windowHours = 24, onUsageError: (e: unknown) => void = () => {}): Promise<PoolObservation> {
  const zone = poolGcpZone(pool);
  const name = poolInstanceName(pool);
  let inst: { id?: string; status?: string };
  try {
    inst = await gcpCall(bases.compute, auth, "GET", `projects/${auth.project}/zones/${zone}/instances/${name}`);
  } catch (e) {
    if (e instanceof GcpHttpError && e.status === 404) return { actual: { instanceId: name, state: "missing", interruption: "none" }, usage: null };
    throw e;
  }
  const state = GCP_STATES[inst.status ?? ""] ?? "pending";
  // Both metrics are GAUGE DOUBLE; Monitoring's ALIGN_PERCENTILE_* aligners take distribution values
  // only (monitoring.v3 Aligner). So: 5-minute means, and the p95 over them computed here.
  const p95 = async (metricFilter: string, scale: number): Promise<number | null> => {
    const q = new URLSearchParams({
      filter: `${metricFilter} AND resource.labels.instance_id="${inst.id ?? ""}"`,
      "interval.startTime": new Date(atMs - windowHours * 3_600_000).toISOString(),
      "interval.endTime": new Date(atMs).toISOString(),
      "aggregation.alignmentPeriod": `${ALIGNMENT_SECONDS}s`,
      "aggregation.perSeriesAligner": "ALIGN_MEAN",
    });
    const r = await gcpCall(bases.monitoring, auth, "GET", `v3/projects/${auth.project}/timeSeries?${q}`);
    const values = (r.timeSeries ?? []).flatMap((ts: any) => (ts.points ?? []).map((p: any) => Number(p.value?.doubleValue ?? p.value?.int64Value)));
    const finite = values.filter((v: number) => Number.isFinite(v));
    return finite.length ? Math.min(100, Math.max(0, percentile(finite, 95) * scale)) : null;
  };
  const actual = { instanceId: name, state, interruption: "none" as const };
  let cpu: number | null, mem: number | null;
  try {
    [cpu, mem] = await Promise.all([
      p95('metric.type="compute.googleapis.com/instance/cpu/utilization"', 100),
      p95('metric.type="agent.googleapis.com/memory/percent_used" AND metric.labels.state="used"', 1),
    ]);
  } catch (e) {
    // Usage unknown is not state unknown: the instance's state still drives restore and fallback;
    // only right-sizing waits for the next readable window.
    onUsageError(e);
    return { actual, usage: null };
  }
  return { actual, usage: cpu === null ? null : { cpuP95Pct: cpu, memP95Pct: mem, netP95Mbps: null } };
}
