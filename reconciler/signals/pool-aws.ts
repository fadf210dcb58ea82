import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type Dimension, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { PoolObserved, Usage } from "../model";

/**
 * The dimension set the CloudWatch agent publishes mem_used_percent under for this instance. The
 * agent appends the dimensions its config names (its default: InstanceId, ImageId, InstanceType,
 * and AutoScalingGroupName in a group), and GetMetricData matches a metric only by its exact
 * dimension set, so the set is looked up (ListMetrics, filtered on InstanceId) instead of assumed.
 * None -> no agent on the instance.
 */
export async function agentMemoryDimensions(client: CloudWatchClient, instanceId: string): Promise<Dimension[] | null> {
  const out = await client.send(
    new ListMetricsCommand({ Namespace: "CWAgent", MetricName: "mem_used_percent", Dimensions: [{ Name: "InstanceId", Value: instanceId }] }),
  );
  // Fewest dimensions first: a per-instance series, not a per-device one some configs add.
  const sets = (out.Metrics ?? []).map((m) => m.Dimensions ?? []).sort((a, b) => a.length - b.length);
  return sets[0] ?? null;
}

/**
 * Usage of the pool instance from CloudWatch: CPU p95 (AWS/EC2 CPUUtilization), memory p95 when the
 * CloudWatch agent reports it (CWAgent mem_used_percent, under the dimensions the agent publishes),
 * network out p95 (bytes -> Mbit/s), each as one p95 over the window. No CPU datapoint at all -> null
 * (usage unknown: no right-sizing).
 */
export async function readAwsUsage(client: CloudWatchClient, instanceId: string, atMs: number, windowHours = 24): Promise<Usage | null> {
  const period = windowHours * 3600;
  const byInstance: Dimension[] = [{ Name: "InstanceId", Value: instanceId }];
  const q = (id: string, namespace: string, metric: string, dimensions: Dimension[]): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metric, Dimensions: dimensions }, Period: period, Stat: "p95" },
    ReturnData: true,
  });
  const memDimensions = await agentMemoryDimensions(client, instanceId);
  const queries = [q("cpu", "AWS/EC2", "CPUUtilization", byInstance), q("net", "AWS/EC2", "NetworkOut", byInstance)];
  if (memDimensions) queries.push(q("mem", "CWAgent", "mem_used_percent", memDimensions));
  const out = await client.send(
    new GetMetricDataCommand({ StartTime: new Date(atMs - period * 1000), EndTime: new Date(atMs), MetricDataQueries: queries }),
  );
  const value = (id: string) => {
    const values = out.MetricDataResults?.find((r) => r.Id === id)?.Values ?? [];
    return values.length ? Math.max(...values) : null;
  };
  const cpu = value("cpu");
  if (cpu === null) return null;
  const netBytes = value("net");
  const clamp = (n: number) => Math.min(100, Math.max(0, n));
  const mem = value("mem");
  return {
    cpuP95Pct: clamp(cpu),
    memP95Pct: mem === null ? null : clamp(mem),
    netP95Mbps: netBytes === null ? null : (netBytes * 8) / 1e6 / 300,
  };
}

/** How long a cycle waits on an empty interruption queue (SQS allows 1-20 s of long polling). */
export const INTERRUPTION_WAIT_SECONDS = 2;

/**
 * Interruption signals for an instance from the SQS queue the SpotPool stack feeds (EventBridge:
 * spot interruption warnings, rebalance recommendations). Messages are left on the queue (they
 * expire after an hour) so a failed cycle sees them again; events older than `maxAgeMinutes` are ignored.
 * Long polling (WaitTimeSeconds > 0): a short poll samples only some of SQS's servers and can answer
 * empty while a warning waits on another; a long poll asks them all, and returns as soon as one answers.
 */
export async function readInterruption(
  client: SQSClient,
  queueUrl: string,
  instanceId: string,
  atMs: number,
  maxAgeMinutes = 15,
  waitSeconds = INTERRUPTION_WAIT_SECONDS,
): Promise<PoolObserved["interruption"]> {
  let seen: PoolObserved["interruption"] = "none";
  for (let round = 0; round < 5; round++) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds, VisibilityTimeout: 0 }));
    const messages = r.Messages ?? [];
    for (const m of messages) {
      let event: { "detail-type"?: string; time?: string; detail?: { "instance-id"?: string } };
      try {
        event = JSON.parse(m.Body ?? "");
      } catch {
        continue; // not an EventBridge event: not ours to judge
      }
      if (event.detail?.["instance-id"] !== instanceId) continue;
      const t = event.time ? Date.parse(event.time) : NaN;
      if (!Number.isFinite(t) || atMs - t > maxAgeMinutes * 60_000) continue;
      if (event["detail-type"] === "EC2 Spot Instance Interruption Warning") return "interruption";
      if (event["detail-type"] === "EC2 Instance Rebalance Recommendation") seen = "rebalance";
    }
    if (messages.length < 10) break;
  }
  return seen;
}
