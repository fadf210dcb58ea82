// Fleet's AWS price sources (DescribeSpotPriceHistory joined with DescribeInstanceTypes and the
// Price List API) against recorded AWS prices served through botocore's definitions in front of
// moto (test/doubles/aws-prices.ts), through the same AWS SDK v3 clients Fleet runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { DescribeSpotPriceHistoryCommand, EC2Client, type _InstanceType } from "@aws-sdk/client-ec2";
import { GetProductsCommand, PricingClient, type FilterType } from "@aws-sdk/client-pricing";
import { MOTO_CREDENTIALS, MotoServer, motoSkipReason } from "../doubles/moto";
import { AwsPriceFront } from "../doubles/aws-prices";
import { AwsSpotPriceSource } from "../../reconciler/signals/prices-aws-api";
import { AwsOnDemandPrices } from "../../reconciler/signals/prices-aws-ondemand";

const skip = motoSkipReason();
const moto = new MotoServer();
let front: AwsPriceFront;
before(async () => {
  if (skip) return;
  await moto.start();
  front = new AwsPriceFront(moto.endpoint);
  await front.start();
});
after(async () => {
  await front?.stop();
  await moto.stop();
});

const opts = (region = "us-east-1") => ({
  region,
  endpoint: front.endpoint,
  credentials: MOTO_CREDENTIALS,
  maxAttempts: 1,
});
const recordedAt = (iso: string) => Date.parse(iso) + front.shiftMs;

test(
  "Fleet's AWS prices: the recorded spot records of the accepted types, each with its recorded on-demand price",
  { skip },
  async () => {
    const onDemand = new AwsOnDemandPrices(new PricingClient(opts()));
    const source = new AwsSpotPriceSource({
      regions: ["us-east-1"],
      lookbackHours: 24 * 7,
      accept: (type, spec) => ["m5", "m5d"].includes(type.split(".")[0]!) && spec.vcpu === 2,
      onDemandHourUsd: (region, type) => onDemand.hourUsd(region, type),
      client: (region) => new EC2Client(opts(region)),
      now: Date.now,
    });
    const got = (await source.prices())
      .map(
        (p) =>
          `${p.machineType} ${p.zone} ${p.spotHourUsd}/${p.onDemandHourUsd} ${p.at === new Date(p.at!).toISOString()}`,
      )
      .sort();
    // aws-spot-pools-2022-05-31: use1-az2 m5.large 0.0424, use1-az4 m5.large 0.0416, use1-az2 m5d.large
    // 0.0352, use1-az5 m5d.large 0.0385; moto names use1-az2 us-east-1c, az4 us-east-1d, az5 us-east-1f.
    // Karpenter's recorded Price List: m5.large 0.096, m5d.large 0.113.
    assert.deepEqual(got, [
      "m5.large us-east-1c 0.0424/0.096 true",
      "m5.large us-east-1d 0.0416/0.096 true",
      "m5d.large us-east-1c 0.0352/0.113 true",
      "m5d.large us-east-1f 0.0385/0.113 true",
    ]);
    const m5 = (await source.prices()).find((p) => p.zone === "us-east-1d")!;
    assert.equal(
      Date.parse(m5.at!),
      recordedAt("2022-05-31T23:45:32Z"),
      "the recorded time, moved by the replay's shift",
    );
    assert.ok(Date.now() - Date.parse(m5.at!) < 20 * 60_000, "recorded 14 min before the snapshot's end");
    const lookups = front.calls
      .filter((c) => c.operation === "GetProducts")
      .map((c) => c.input.Filters as { Field: string; Value: string }[]);
    assert.deepEqual(
      lookups.map((f) => f.find((x) => x.Field === "instanceType")!.Value).sort(),
      ["m5.large", "m5d.large"],
      "one Price List lookup per accepted type (cached across calls)",
    );
  },
);

test(
  "the spot history: a start time gives the price in effect then, as DescribeSpotPriceHistory documents",
  { skip },
  async () => {
    const ec2 = new EC2Client(opts());
    const r = await ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: ["t3.large"],
        ProductDescriptions: ["Linux/UNIX"],
        AvailabilityZone: "us-east-1f",
        StartTime: new Date(recordedAt("2022-05-31T21:00:00Z")),
      }),
    );
    // use1-az5 t3.large: 0.029000 at 20:56:52 (before the start: the effective price) and 0.029100 at 21:18:24.
    assert.deepEqual(
      r.SpotPriceHistory?.map((p) => [p.SpotPrice, p.Timestamp?.getTime(), p.AvailabilityZoneId]),
      [
        ["0.029100", recordedAt("2022-05-31T21:18:24Z"), "use1-az5"],
        ["0.029000", recordedAt("2022-05-31T20:56:52Z"), "use1-az5"],
      ],
    );
  },
);

test("the front refuses what botocore's definitions refuse, with the service's error", { skip }, async () => {
  const ec2 = new EC2Client(opts());
  await assert.rejects(
    ec2.send(new DescribeSpotPriceHistoryCommand({ InstanceTypes: ["x9.huge" as _InstanceType] })),
    (e: Error) => e.name === "InvalidParameterValue" && /InstanceType\.1/.test(e.message),
  );
  await assert.rejects(
    ec2.send(new DescribeSpotPriceHistoryCommand({ Filters: [{ Name: "price", Values: ["1"] }] })),
    (e: Error) => e.name === "InvalidParameterValue" && /filter 'price'/.test(e.message),
  );
  const raw = await fetch(front.endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "Action=DescribeSpotPriceHistory&Version=2016-11-15&InstanceTypes.1=m5.large",
  });
  assert.equal(raw.status, 400);
  assert.match(await raw.text(), /<Code>UnknownParameter<\/Code>.*InstanceTypes\.1/, "the wire name is InstanceType.N");
  const pricing = new PricingClient(opts());
  const rejects = (input: object, pattern: RegExp) =>
    assert.rejects(
      pricing.send(new GetProductsCommand(input as never)),
      (e: Error) => e.name === "InvalidParameterException" && pattern.test(e.message),
    );
  await rejects({ ServiceCode: "AmazonEC2", MaxResults: 101 }, /MaxResults: value 101 is above the maximum 100/);
  await rejects({}, /ServiceCode: is required/);
  await rejects(
    { ServiceCode: "AmazonEC2", Filters: [{ Type: "LIKE" as FilterType, Field: "instanceType", Value: "m5" }] },
    /Filters\[0\]\.Type: 'LIKE'/,
  );
  await rejects(
    { ServiceCode: "AmazonEC2", Filters: [{ Type: "TERM_MATCH", Field: "instanceType" }] },
    /Filters\[0\]\.Value: is required/,
  );
  const windows = await pricing.send(
    new GetProductsCommand({
      ServiceCode: "AmazonEC2",
      Filters: [{ Type: "TERM_MATCH", Field: "operatingSystem", Value: "Windows" }],
    }),
  );
  assert.deepEqual(windows.PriceList, [], "only the recorded (Linux, shared) products exist");
});
