import { test } from "node:test";
import assert from "node:assert/strict";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { readAwsUsage } from "../../reconciler/signals/pool-aws";
import { AwsJsonDouble } from "../doubles/aws-json";


const AT = Date.parse("2026-11-22T12:00:00Z");
const creds = { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" };

// GetMetricData with a percentile statistic is answered here, not by moto: moto 5.2.1 cannot
// serialize a p95 result (TypeError in moto/core/serialize.py _serialize_type_float).
const AGENT_DIMENSIONS = [
  { Name: "InstanceId", Value: "i-0abc" },
  { Name: "ImageId", Value: "ami-0abcdef1234567890" },
  { Name: "InstanceType", Value: "m5.xlarge" },
];

test("usage: CPU, memory and network p95 from CloudWatch GetMetricData", async () => {
  const double = new AwsJsonDouble({
    ListMetrics: () => ({ Metrics: [{ Namespace: "CWAgent", MetricName: "mem_used_percent", Dimensions: AGENT_DIMENSIONS }] }),
    GetMetricData: (body) => ({
      MetricDataResults: body.MetricDataQueries.map((q: any) => ({ Id: q.Id, StatusCode: "Complete", Timestamps: [AT / 1000 - 3600], Values: q.Id === "cpu" ? [91.5] : q.Id === "mem" ? [40] : [37_500_000] })),
    }),
  });
  const endpoint = await double.start();
  try {
    const usage = await readAwsUsage(new CloudWatchClient({ region: "us-east-1", endpoint, credentials: creds }), "i-0abc", AT);
    assert.deepEqual(usage, { cpuP95Pct: 91.5, memP95Pct: 40, netP95Mbps: 1 });
    const q = double.calls.find((c) => c.target.endsWith("GetMetricData"))!.body.MetricDataQueries;
    assert.deepEqual(q.map((x: any) => [x.MetricStat.Metric.Namespace, x.MetricStat.Metric.MetricName, x.MetricStat.Stat]), [["AWS/EC2", "CPUUtilization", "p95"], ["AWS/EC2", "NetworkOut", "p95"], ["CWAgent", "mem_used_percent", "p95"]]);
    assert.equal(q[0].MetricStat.Metric.Dimensions[0].Value, "i-0abc");
    assert.deepEqual(q[2].MetricStat.Metric.Dimensions, AGENT_DIMENSIONS, "memory under the agent's own dimension set");
  } finally {
    await double.stop();
  }
});

test("usage: no CPU datapoints means unknown; no agent means memory unknown", async () => {
  let withCpu = false;
  const double = new AwsJsonDouble({ ListMetrics: () => ({ Metrics: [] }), GetMetricData: (body) => ({ MetricDataResults: body.MetricDataQueries.map((q: any) => ({ Id: q.Id, Values: withCpu && q.Id === "cpu" ? [20] : [] })) }) });
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

// The interruption path, the pool's observation and the sweep's inventory run against moto:
// test/integration/aws-moto.test.ts.

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
