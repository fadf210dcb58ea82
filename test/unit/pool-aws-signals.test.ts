import { test } from "node:test";
import assert from "node:assert/strict";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { SQSClient } from "@aws-sdk/client-sqs";
import { readAwsUsage, readInterruption } from "../../reconciler/signals/pool-aws";
import { createHash } from "node:crypto";
import { AwsJsonDouble } from "../doubles/aws-json";

/** An SQS message as ReceiveMessage returns it (the SDK checks MD5OfBody). */
const sqsMessage = (id: string, body: string) => ({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: body, MD5OfBody: createHash("md5").update(body).digest("hex") });

const AT = Date.parse("2026-11-22T12:00:00Z");
const creds = { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" };

test("usage: CPU, memory and network p95 from CloudWatch GetMetricData", async () => {
  const double = new AwsJsonDouble({
    GetMetricData: (body) => ({
      MetricDataResults: body.MetricDataQueries.map((q: any) => ({ Id: q.Id, StatusCode: "Complete", Timestamps: [AT / 1000 - 3600], Values: q.Id === "cpu" ? [91.5] : q.Id === "mem" ? [40] : [37_500_000] })),
    }),
  });
  const endpoint = await double.start();
  try {
    const usage = await readAwsUsage(new CloudWatchClient({ region: "us-east-1", endpoint, credentials: creds }), "i-0abc", AT);
    assert.deepEqual(usage, { cpuP95Pct: 91.5, memP95Pct: 40, netP95Mbps: 1 });
    const q = double.calls[0]!.body.MetricDataQueries;
    assert.deepEqual(q.map((x: any) => [x.MetricStat.Metric.Namespace, x.MetricStat.Metric.MetricName, x.MetricStat.Stat]), [["AWS/EC2", "CPUUtilization", "p95"], ["CWAgent", "mem_used_percent", "p95"], ["AWS/EC2", "NetworkOut", "p95"]]);
    assert.equal(q[0].MetricStat.Metric.Dimensions[0].Value, "i-0abc");
  } finally {
    await double.stop();
  }
});

test("usage: no CPU datapoints means unknown; no agent means memory unknown", async () => {
  let withCpu = false;
  const double = new AwsJsonDouble({ GetMetricData: (body) => ({ MetricDataResults: body.MetricDataQueries.map((q: any) => ({ Id: q.Id, Values: withCpu && q.Id === "cpu" ? [20] : [] })) }) });
  const endpoint = await double.start();
  try {
    const client = new CloudWatchClient({ region: "us-east-1", endpoint, credentials: creds });
    assert.equal(await readAwsUsage(client, "i-0abc", AT), null);
    withCpu = true;
    assert.deepEqual(await readAwsUsage(client, "i-0abc", AT), { cpuP95Pct: 20, memP95Pct: null, netP95Mbps: null });
  } finally {
    await double.stop();
  }
});

test("interruptions: a recent warning for our instance, from the EventBridge events on the queue", async () => {
  const event = (type: string, instance: string, minutesAgo: number) => sqsMessage(`${type}-${instance}-${minutesAgo}`, JSON.stringify({ "detail-type": type, source: "aws.ec2", time: new Date(AT - minutesAgo * 60_000).toISOString(), detail: { "instance-id": instance, "instance-action": "terminate" } }));
  let messages: unknown[] = [];
  const double = new AwsJsonDouble({ ReceiveMessage: () => ({ Messages: messages }) });
  const endpoint = await double.start();
  try {
    const client = new SQSClient({ region: "us-east-1", endpoint, credentials: creds });
    const url = `${endpoint}/123456789012/pool-interruptions`;
    messages = [event("EC2 Spot Instance Interruption Warning", "i-other", 1), sqsMessage("x", "not json")];
    assert.equal(await readInterruption(client, url, "i-0abc", AT), "none");
    messages = [event("EC2 Instance Rebalance Recommendation", "i-0abc", 2)];
    assert.equal(await readInterruption(client, url, "i-0abc", AT), "rebalance");
    messages = [event("EC2 Instance Rebalance Recommendation", "i-0abc", 2), event("EC2 Spot Instance Interruption Warning", "i-0abc", 1)];
    assert.equal(await readInterruption(client, url, "i-0abc", AT), "interruption");
    messages = [event("EC2 Spot Instance Interruption Warning", "i-0abc", 60)];
    assert.equal(await readInterruption(client, url, "i-0abc", AT), "none", "an hour-old warning is stale");
    assert.equal(double.calls[0]!.body.QueueUrl, url);
    assert.ok(double.calls.every((c) => c.target === "AmazonSQS.ReceiveMessage"), "messages are left on the queue");
  } finally {
    await double.stop();
  }
});
