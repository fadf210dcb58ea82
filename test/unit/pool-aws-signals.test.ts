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

test("live pool observation: the instance found by its tags, interruption from the queue found by prefix, usage from CloudWatch", async () => {
  const { EC2Client } = await import("@aws-sdk/client-ec2");
  const { Ec2Double } = await import("../doubles/ec2-api");
  const { observeAwsPool } = await import("../../reconciler/signals/pool-live");
  const ec2 = new Ec2Double([], []);
  ec2.instances = [
    { id: "i-0pool", az: "us-east-1a", type: "m5.xlarge", state: "running", tags: { "managed-by": "fleet", "fleet-area": "pool", "fleet-stack": "prod" } },
    { id: "i-0other", az: "us-east-1a", type: "m5.xlarge", state: "running", tags: { "managed-by": "fleet", "fleet-area": "pool", "fleet-stack": "dev" } },
  ];
  const warning = JSON.stringify({ "detail-type": "EC2 Spot Instance Interruption Warning", time: "2026-11-22T11:58:00Z", detail: { "instance-id": "i-0pool" } });
  const aws = new AwsJsonDouble({
    ListQueues: (b) => ({ QueueUrls: b.QueueNamePrefix === "pool-interruptions" ? ["https://sqs.us-east-1.amazonaws.com/123/pool-interruptions-a1b2c3d"] : [] }),
    ReceiveMessage: () => ({ Messages: [sqsMessage("m1", warning)] }),
    GetMetricData: (body) => ({ MetricDataResults: body.MetricDataQueries.map((q: any) => ({ Id: q.Id, Values: q.Id === "cpu" ? [12] : [] })) }),
  });
  const [ec2Url, awsUrl] = await Promise.all([ec2.start(), aws.start()]);
  try {
    const clients = {
      ec2: (region: string) => new EC2Client({ region, endpoint: ec2Url, credentials: creds }),
      sqs: (region: string) => new SQSClient({ region, endpoint: awsUrl, credentials: creds }),
      cloudwatch: (region: string) => new CloudWatchClient({ region, endpoint: awsUrl, credentials: creds }),
    };
    const pool = { provider: "aws" as const, region: "us-east-1", zone: "us-east-1a", instanceType: "m5.xlarge", vcpu: 4, ramGb: 16, market: "spot" as const, hourUsd: 0.07, since: "2026-11-22T08:00:00.000Z" };
    const seen = await observeAwsPool(pool, "prod", clients, AT);
    assert.deepEqual(seen, { actual: { instanceId: "i-0pool", state: "running", interruption: "interruption" }, usage: { cpuP95Pct: 12, memP95Pct: null, netP95Mbps: null } });
    ec2.instances[0]!.state = "terminated";
    assert.deepEqual((await observeAwsPool(pool, "prod", clients, AT)).actual, { instanceId: "none", state: "missing", interruption: "none" });
  } finally {
    await Promise.all([ec2.stop(), aws.stop()]);
  }
});

test("the Monitoring double refuses what Monitoring refuses: a percentile aligner on a GAUGE DOUBLE metric, a short period, an unknown aligner", async () => {
  const { alignerRefusal } = await import("../doubles/monitoring-aligners");
  const cpu = "compute.googleapis.com/instance/cpu/utilization";
  assert.match(alignerRefusal("ALIGN_PERCENTILE_95", cpu, "86400s") ?? "", /cannot be applied to metrics with kind GAUGE and value type DOUBLE/);
  assert.match(alignerRefusal("ALIGN_RATE", cpu, "300s") ?? "", /kind GAUGE/);
  assert.equal(alignerRefusal("ALIGN_MEAN", cpu, "300s"), null);
  assert.equal(alignerRefusal("ALIGN_MAX", cpu, "300s"), null);
  assert.match(alignerRefusal("ALIGN_MEAN", cpu, "30s") ?? "", /at least 60 seconds/);
  assert.match(alignerRefusal("ALIGN_P95", cpu, "300s") ?? "", /Invalid value at 'aggregation.per_series_aligner'/);
});

test("live pool observation on GCP: the instance by its name, CPU and memory p95 from Cloud Monitoring; 404 is missing", async () => {
  const { GcpComputeDouble } = await import("../doubles/gcp-compute");
  const { observeGcpPool } = await import("../../reconciler/signals/pool-live");
  const { poolInstanceName } = await import("../../reconciler/pool-naming");
  const gcp = new GcpComputeDouble([]);
  const compute = await gcp.start();
  const monitoring = compute.replace(/compute\/v1\/$/, "");
  try {
    const pool = { provider: "gcp" as const, region: "us-central1", zone: "", instanceType: "n2-standard-4", vcpu: 4, ramGb: 16, market: "spot" as const, hourUsd: 0.05, since: "2026-11-22T08:00:00.000Z" };
    const auth = { project: "proj-test", token: "gcp-test-token" };
    gcp.instances[poolInstanceName(pool)] = { id: "4455", status: "RUNNING" };
    // 5-minute means over the window: 20 points from 1% to 20% CPU; the p95 of them is the 19th (19%).
    const cpu = Array.from({ length: 20 }, (_, i) => (i + 1) / 100);
    gcp.series = { "compute.googleapis.com/instance/cpu/utilization": cpu, "agent.googleapis.com/memory/percent_used": [55] };
    const seen = await observeGcpPool(pool, auth, { compute, monitoring }, AT);
    assert.deepEqual(seen, { actual: { instanceId: poolInstanceName(pool), state: "running", interruption: "none" }, usage: { cpuP95Pct: 19, memP95Pct: 55, netP95Mbps: null } });
    const monitoringCalls = gcp.calls.filter((c) => c.path.startsWith("/v3/"));
    assert.ok(monitoringCalls.every((c) => c.path.includes("aggregation.perSeriesAligner=ALIGN_MEAN") && c.path.includes("aggregation.alignmentPeriod=300s")));
    assert.ok(gcp.calls.some((c) => c.path.startsWith(`/compute/v1/projects/proj-test/zones/us-central1-b/instances/${poolInstanceName(pool)}`)));
    assert.ok(gcp.calls.some((c) => c.path.includes(encodeURIComponent('resource.labels.instance_id="4455"').replace(/%20/g, "+"))));
    // Monitoring refusing (a 400 here: an aligner it rejects) leaves the usage unknown, the state known.
    gcp.series = {};
    const errors: unknown[] = [];
    const noMonitoring = await observeGcpPool(pool, auth, { compute, monitoring: monitoring + "nowhere/" }, AT, 24, (e) => errors.push(e));
    assert.deepEqual(noMonitoring, { actual: { instanceId: poolInstanceName(pool), state: "running", interruption: "none" }, usage: null });
    assert.equal(errors.length, 1);
    delete gcp.instances[poolInstanceName(pool)];
    assert.deepEqual(await observeGcpPool(pool, auth, { compute, monitoring }, AT), { actual: { instanceId: poolInstanceName(pool), state: "missing", interruption: "none" }, usage: null });
    await assert.rejects(observeGcpPool(pool, { ...auth, token: "expired" }, { compute, monitoring }, AT), /GCP GET .*: 401 Request had invalid authentication credentials/);
  } finally {
    await gcp.stop();
  }
});
