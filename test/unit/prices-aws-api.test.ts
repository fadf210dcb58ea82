import { test } from "node:test";
import assert from "node:assert/strict";
import { EC2Client } from "@aws-sdk/client-ec2";
import { AwsSpotPriceSource } from "../../reconciler/signals/prices-aws-api";
import { Ec2Double } from "../doubles/ec2-api";

const spot = [
  { az: "us-east-1a", type: "m5.large", product: "Linux/UNIX", price: "0.038000", at: "2026-11-22T10:00:00.000Z" },
  { az: "us-east-1b", type: "m5.large", product: "Linux/UNIX", price: "0.041000", at: "2026-11-22T11:00:00.000Z" },
  { az: "us-east-1a", type: "m5.xlarge", product: "Linux/UNIX", price: "0.072000", at: "2026-11-22T11:30:00.000Z" },
  { az: "us-east-1a", type: "m5.large", product: "Windows", price: "0.120000", at: "2026-11-22T11:30:00.000Z" },
  { az: "us-east-1c", type: "x9.mystery", product: "Linux/UNIX", price: "0.500000", at: "2026-11-22T11:30:00.000Z" },
];
const types = [
  { type: "m5.large", vcpu: 2, memMiB: 8192 },
  { type: "m5.xlarge", vcpu: 4, memMiB: 16384 },
  { type: "g5.xlarge", vcpu: 4, memMiB: 16384, gpus: 1 },
];
const OD: Record<string, number> = { "m5.large": 0.096, "m5.xlarge": 0.192 };

async function withDouble(fn: (source: AwsSpotPriceSource, double: Ec2Double) => Promise<void>, spotItems = spot) {
  const double = new Ec2Double(spotItems, types);
  const endpoint = await double.start();
  const source = new AwsSpotPriceSource({
    regions: ["us-east-1"],
    lookbackHours: 24,
    onDemandHourUsd: (_r, t) => OD[t],
    now: () => Date.parse("2026-11-22T12:00:00Z"),
    client: (region) => new EC2Client({ region, endpoint, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" }, maxAttempts: 3 }),
  });
  try {
    await fn(source, double);
  } finally {
    await double.stop();
  }
}

test("aws prices: every page of the history, joined with the instance-type catalog", async () => {
  await withDouble(async (source, double) => {
    const prices = await source.prices();
    assert.deepEqual(prices.map((p) => [p.zone, p.machineType, p.spotHourUsd, p.vcpu, p.ramGb, p.onDemandHourUsd]), [
      ["us-east-1a", "m5.large", 0.038, 2, 8, 0.096],
      ["us-east-1b", "m5.large", 0.041, 2, 8, 0.096],
      ["us-east-1a", "m5.xlarge", 0.072, 4, 16, 0.192],
    ]);
    assert.deepEqual(source.skipped, [{ region: "us-east-1", instanceType: "x9.mystery", why: "not in DescribeInstanceTypes" }]);
    const history = double.calls.filter((c) => c.Action === "DescribeSpotPriceHistory");
    assert.equal(history.length, 2, "two pages of two (Windows filtered by the server)");
    assert.equal(history[0]!["ProductDescription.1"], "Linux/UNIX");
    assert.equal(history[0]!.StartTime, "2026-11-21T12:00:00Z");
    assert.equal(history[1]!.NextToken, "2");
    assert.equal(double.calls.filter((c) => c.Action === "DescribeInstanceTypes").length, 2);
  });
});

test("aws prices: throttling (503 RequestLimitExceeded) is retried by the SDK", async () => {
  await withDouble(async (source, double) => {
    double.failures.push({ status: 503, code: "RequestLimitExceeded" });
    assert.equal((await source.prices()).length, 3);
  });
});

test("aws prices: an auth failure is a clear error, not an empty price list", async () => {
  await withDouble(async (source, double) => {
    double.failures.push({ status: 401, code: "AuthFailure" });
    await assert.rejects(source.prices(), /AuthFailure|injected/);
  });
});

test("aws prices: a malformed price from the API names the region and item", async () => {
  await withDouble(async (source) => {
    await assert.rejects(source.prices(), /DescribeSpotPriceHistory us-east-1 item 1 \(m5\.large us-east-1a\) spotHourUsd/);
  }, [{ ...spot[0]!, price: "" }]);
});
