import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from "@aws-sdk/client-cloudwatch";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { PoolObserved, Usage } from "../model";

/**
 * Usage of the pool instance from CloudWatch: CPU p95 (AWS/EC2 CPUUtilization), memory p95 when the
 * CloudWatch agent reports it (CWAgent mem_used_percent), network out p95 (bytes -> Mbit/s), each as
 * one p95 over the window. No CPU datapoint at all -> null (usage unknown: no right-sizing).
 */
export async function readAwsUsage(client: CloudWatchClient, instanceId: string, atMs: number, windowHours = 24): Promise<Usage | null> {
  const period = windowHours * 3600;
  const q = (id: string, namespace: string, metric: string): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metric, Dimensions: [{ Name: "InstanceId", Value: instanceId }] }, Period: period, Stat: "p95" },
    ReturnData: true,
  });
  const out = await client.send(
    new GetMetricDataCommand({
      StartTime: new Date(atMs - period * 1000),
      EndTime: new Date(atMs),
      MetricDataQueries: [q("cpu", "AWS/EC2", "CPUUtilization"), q("mem", "CWAgent", "mem_used_percent"), q("net", "AWS/EC2", "NetworkOut")],
    }),
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
  return { cpuP95Pct: clamp(cpu), memP95Pct: mem === null ? null : clamp(mem), netP95Mbps: netBytes === null ? null : (netBytes * 8) / 1e6 / 300 };
}

/**
 * Interruption signals for an instance from the SQS queue the SpotPool stack feeds (EventBridge:
 * spot interruption warnings, rebalance recommendations). Messages are left on the queue (they
 * expire after an hour) so a failed cycle sees them again; events older than `maxAgeMinutes` are ignored.
 */
export async function readInterruption(client: SQSClient, queueUrl: string, instanceId: string, atMs: number, maxAgeMinutes = 15): Promise<PoolObserved["interruption"]> {
  let seen: PoolObserved["interruption"] = "none";
  for (let round = 0; round < 5; round++) {
    const r = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
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
