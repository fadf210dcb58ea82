import { test } from "node:test";
import assert from "node:assert/strict";
import { PricingClient } from "@aws-sdk/client-pricing";
import { AwsOnDemandPrices } from "../../reconciler/signals/prices-aws-ondemand";
import { AwsJsonDouble } from "../doubles/aws-json";

/** A price list document as GetProducts returns it (a JSON string per product). */
function doc(type: string, region: string, usd: string, sku = `SKU${type}${region}`): string {
  return JSON.stringify({
    product: { productFamily: "Compute Instance", attributes: { instanceType: type, regionCode: region, operatingSystem: "Linux", tenancy: "Shared", preInstalledSw: "NA", capacitystatus: "Used", vcpu: "2", memory: "8 GiB" }, sku },
    serviceCode: "AmazonEC2",
    terms: { OnDemand: { [`${sku}.JRTCKXETXF`]: { priceDimensions: { [`${sku}.JRTCKXETXF.6YS6EN2CT7`]: { unit: "Hrs", pricePerUnit: { USD: usd }, description: `$${usd} per On Demand Linux ${type} Instance Hour` } }, sku, offerTermCode: "JRTCKXETXF" } } },
  });
}

test("AWS on-demand prices: GetProducts with the documented filters, every page, the cheapest hourly price, cached", async () => {
  const double = new AwsJsonDouble({
    GetProducts: (body: { Filters: { Field: string; Value: string }[]; NextToken?: string }) => {
      const f = Object.fromEntries(body.Filters.map((x) => [x.Field, x.Value]));
      if (f.instanceType === "m5.large" && !body.NextToken) return { FormatVersion: "aws_v1", PriceList: [doc("m5.large", f.regionCode!, "0.1010", "A")], NextToken: "page2" };
      if (f.instanceType === "m5.large") return { FormatVersion: "aws_v1", PriceList: [doc("m5.large", f.regionCode!, "0.0960", "B")] };
      return { FormatVersion: "aws_v1", PriceList: [] };
    },
  });
  const endpoint = await double.start();
  try {
    const prices = new AwsOnDemandPrices(new PricingClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" }, maxAttempts: 1 }));
    assert.equal(await prices.hourUsd("us-east-1", "m5.large"), 0.096);
    assert.equal(await prices.hourUsd("us-east-1", "m5.large"), 0.096);
    assert.equal(double.calls.length, 2, "two pages, then cached");
    const filters = Object.fromEntries((double.calls[0]!.body.Filters as { Field: string; Value: string; Type: string }[]).map((x) => [x.Field, `${x.Type}:${x.Value}`]));
    assert.deepEqual(filters, { regionCode: "TERM_MATCH:us-east-1", instanceType: "TERM_MATCH:m5.large", operatingSystem: "TERM_MATCH:Linux", tenancy: "TERM_MATCH:Shared", preInstalledSw: "TERM_MATCH:NA", capacitystatus: "TERM_MATCH:Used" });
    assert.equal(double.calls[0]!.body.ServiceCode, "AmazonEC2");
    assert.equal(await prices.hourUsd("us-east-1", "x9.huge"), undefined, "no price listed");
  } finally {
    await double.stop();
  }
});

test("AWS on-demand prices: a malformed price item is an error naming the region and type", async () => {
  const double = new AwsJsonDouble({ GetProducts: () => ({ FormatVersion: "aws_v1", PriceList: [doc("m5.large", "eu-west-1", "cheap")] }) });
  const endpoint = await double.start();
  try {
    const prices = new AwsOnDemandPrices(new PricingClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test" }, maxAttempts: 1 }));
    await assert.rejects(prices.hourUsd("eu-west-1", "m5.large"), /AWS Price List eu-west-1 m5.large: pricePerUnit.USD 'cheap' is not a price/);
  } finally {
    await double.stop();
  }
});

test("live prices: a pool that may be on AWS needs named AWS regions (a prefix cannot be queried)", async () => {
  const { poolPrices } = await import("../../reconciler/context");
  const { policy } = await import("../helpers");
  const { EMPTY_DESIRED } = await import("../../reconciler/model");
  const gcp = { prices: async () => [] };
  const cfg = (pool: Record<string, unknown>) => ({ root: "/tmp", stack: "t", file: "Pulumi.t.yaml", policy: policy({ pool }), desired: EMPTY_DESIRED });
  assert.equal(poolPrices(cfg({ enabled: true, providers: ["gcp"] }), gcp, Date.now), gcp, "GCP only: the price file alone");
  assert.throws(() => poolPrices(cfg({ enabled: true, providers: ["gcp", "aws"], allowedRegions: ["us-"] }), gcp, Date.now), /fleet:policy.pool.allowedRegions: the pool may be on AWS .* no AWS region is named/);
  assert.notEqual(poolPrices(cfg({ enabled: true, providers: ["aws"], allowedRegions: ["us-east-1"], homeRegion: "us-east-1" }), gcp, Date.now), gcp);
});
