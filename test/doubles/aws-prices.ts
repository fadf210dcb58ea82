// AWS's price APIs, which moto only fakes, answered from recorded prices in front of moto.
//
// moto_server answers DescribeSpotPriceHistory with one fixed price stamped 2006
// (moto/ec2/responses/spot_instances.py) and has no Price List API. This front listens in its place:
// EC2 `DescribeSpotPriceHistory` and the Price List API's `GetProducts` are answered here; every
// other request goes to moto unchanged. Both operations are read and answered through botocore's
// service definitions (./botocore.ts): a request the definition does not allow is refused with the
// service's error, and the answer is written in the output shape's wire names.
//
// The prices are recorded, not made up:
// - spot: ../shared/data/aws-spot-pools-2022-05-31.tsv.gz, every Linux/UNIX pool of every region as
//   DescribeSpotPriceHistory published it on 2022-05-31 18:20-23:59Z (see ../shared/data/README.md).
//   Replayed with its clock moved so that its last record is the moment the front starts: the
//   records keep their order and spacing. Availability-zone IDs become the zone names moto gives the
//   region (DescribeAvailabilityZones), as an account's own mapping would.
// - on-demand: the Price List API's answers recorded by Karpenter (github.com/aws/
//   karpenter-provider-aws, pkg/providers/pricing/zz_generated.pricing_aws.go, "generated at
//   2026-05-18T14:21:15Z for us-east-1"), fetched from the Go module proxy (`go mod download`): the
//   hourly USD price of every instance type for the filters its pricing.go sends (regionCode,
//   serviceCode AmazonEC2, preInstalledSw NA, operatingSystem Linux, capacitystatus Used,
//   marketoption OnDemand, tenancy Shared, productFamily Compute Instance). Each becomes one product
//   document in the layout AWS documents for price list items ("Reading the service price list
//   file", docs.aws.amazon.com/awsaccountbilling/latest/aboutv2/reading-service-price-list-file-for-services.html):
//   product {productFamily, attributes, sku}, serviceCode, terms.OnDemand.<sku>.<offerTermCode>
//   .priceDimensions.<rateCode> {unit "Hrs", pricePerUnit {USD}}. Only those attributes are known,
//   so only those products exist here: a filter on another value (Windows, Dedicated) finds nothing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { DescribeAvailabilityZonesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SHARED_DATA } from "../helpers";
import { AwsModelError, checkJsonInput, ec2Response, readEc2Query, serviceModel } from "./botocore";
import { MOTO_CREDENTIALS } from "./moto";

export const KARPENTER_MODULE = "github.com/aws/karpenter-provider-aws";
/** The newest Karpenter release this machine's Go (1.26.8) may download (v1.14+ need Go 1.26.10). */
export const KARPENTER_VERSION = "v1.13.0";

export interface SpotRecord {
  azId: string;
  instanceType: string;
  product: string;
  price: string;
  at: number;
}

/** The recorded spot snapshot, as published (prices as text, times as epoch ms). */
export function recordedSpot(file = path.join(SHARED_DATA, "aws-spot-pools-2022-05-31.tsv.gz")): SpotRecord[] {
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString("utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [azId, instanceType, product, price, at] = l.split("\t") as [string, string, string, string, string];
      return { azId, instanceType, product, price, at: Date.parse(at) };
    });
}

export interface OnDemandTable {
  /** When the recorded list was made (its "generated at" line). */
  generatedAt: string;
  /** region -> instance type -> USD per hour */
  prices: Map<string, Map<string, number>>;
}

/** Karpenter's recorded on-demand prices, from the Go module cache (downloaded when missing). */
export function recordedOnDemand(): OnDemandTable {
  const r = spawnSync("go", ["mod", "download", "-json", `${KARPENTER_MODULE}@${KARPENTER_VERSION}`], {
    cwd: os.tmpdir(),
    encoding: "utf8",
    env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
  });
  let dir: string | undefined;
  try {
    dir = JSON.parse(r.stdout).Dir;
  } catch {
    /* reported below */
  }
  if (!dir) throw new Error(`go mod download ${KARPENTER_MODULE}@${KARPENTER_VERSION} failed: ${r.stdout}${r.stderr}`);
  const text = fs.readFileSync(path.join(dir, "pkg/providers/pricing/zz_generated.pricing_aws.go"), "utf8");
  const generatedAt = /generated at (\S+)/.exec(text)?.[1] ?? "";
  const prices = new Map<string, Map<string, number>>();
  let region: Map<string, number> | undefined;
  for (const line of text.split("\n")) {
    const block = /^\t"([a-z0-9-]+)": \{/.exec(line);
    if (block) prices.set(block[1]!, (region = new Map()));
    else if (region) for (const m of line.matchAll(/"([a-z0-9.-]+)": ([0-9.]+)/g)) region.set(m[1]!, Number(m[2]));
  }
  if (!prices.size) throw new Error(`no prices found in Karpenter ${KARPENTER_VERSION}'s generated price file`);
  return { generatedAt, prices };
}

/** Price List `location` names of the regions the recorded list holds (as AWS's price list names them). */
const LOCATIONS: Record<string, { location: string; usagePrefix: string }> = {
  "us-east-1": { location: "US East (N. Virginia)", usagePrefix: "" },
};
/** AWS's OnDemand offer term code and hourly rate code (as in the price list documents AWS publishes). */
const ON_DEMAND_TERM = "JRTCKXETXF";
const HOURLY_RATE = "6YS6EN2CT7";

function sku(region: string, type: string): string {
  return createHash("sha256").update(`${region}/${type}`).digest("hex").slice(0, 16).toUpperCase();
}

/** One price list item as GetProducts returns it (a JSON document, sent as a string). */
export function priceListItem(region: string, type: string, usd: number, generatedAt: string): Record<string, unknown> {
  const where = LOCATIONS[region];
  if (!where) throw new Error(`no Price List location is known for ${region}`);
  const id = sku(region, type);
  const attributes = {
    servicecode: "AmazonEC2",
    instanceType: type,
    regionCode: region,
    location: where.location,
    locationType: "AWS Region",
    operatingSystem: "Linux",
    tenancy: "Shared",
    preInstalledSw: "NA",
    capacitystatus: "Used",
    marketoption: "OnDemand",
    licenseModel: "No License required",
    operation: "RunInstances",
    usagetype: `${where.usagePrefix}BoxUsage:${type}`,
  };
  const usdText = usd.toFixed(10);
  return {
    product: { productFamily: "Compute Instance", attributes, sku: id },
    serviceCode: "AmazonEC2",
    terms: {
      OnDemand: {
        [`${id}.${ON_DEMAND_TERM}`]: {
          priceDimensions: {
            [`${id}.${ON_DEMAND_TERM}.${HOURLY_RATE}`]: {
              unit: "Hrs",
              endRange: "Inf",
              description: `$${usd} per On Demand Linux ${type} Instance Hour`,
              appliesTo: [],
              rateCode: `${id}.${ON_DEMAND_TERM}.${HOURLY_RATE}`,
              beginRange: "0",
              pricePerUnit: { USD: usdText },
            },
          },
          sku: id,
          effectiveDate: generatedAt,
          offerTermCode: ON_DEMAND_TERM,
          termAttributes: {},
        },
      },
    },
    version: generatedAt.replace(/\D/g, "").slice(0, 14),
    publicationDate: generatedAt,
  };
}

/** A GetProducts filter against one item, as the Price List API's FilterType documentation says. */
function matches(item: Record<string, any>, f: { Type: string; Field: string; Value: string }): boolean {
  const fields: Record<string, string> = {
    ...item.product.attributes,
    productFamily: item.product.productFamily,
    sku: item.product.sku,
  };
  const v = fields[f.Field];
  const values = f.Value.split(",").map((x) => x.trim());
  switch (f.Type) {
    case "TERM_MATCH":
    case "EQUALS":
      return v === f.Value;
    case "CONTAINS":
      return v !== undefined && v.includes(f.Value);
    case "ANY_OF":
      return v !== undefined && values.includes(v);
    case "NONE_OF":
      return v === undefined || !values.includes(v);
    default:
      return false;
  }
}

/** Filter names DescribeSpotPriceHistory documents (the Filters member of its request shape). */
const SPOT_FILTERS = [
  "availability-zone",
  "availability-zone-id",
  "instance-type",
  "product-description",
  "spot-price",
  "timestamp",
];

/** The region a SigV4-signed request is for (its credential scope). */
function signedRegion(req: http.IncomingMessage): string {
  const m = /Credential=[^/]+\/\d{8}\/([a-z0-9-]+)\/[a-z0-9-]+\/aws4_request/.exec(
    String(req.headers.authorization ?? ""),
  );
  return m?.[1] ?? "us-east-1";
}

const token = (n: number) => Buffer.from(`fleet-double:${n}`).toString("base64");
function offsetOf(t: string | undefined, code: string): number {
  if (t === undefined || t === "") return 0;
  const m = /^fleet-double:(\d+)$/.exec(Buffer.from(t, "base64").toString("utf8"));
  if (!m) throw new AwsModelError(code, "The token is not valid.");
  return Number(m[1]);
}

export interface PriceCall {
  operation: string;
  region: string;
  input: Record<string, unknown>;
}

export class AwsPriceFront {
  calls: PriceCall[] = [];
  endpoint = "";
  /** Milliseconds added to every recorded spot time (the replay's clock). */
  shiftMs = 0;
  private server?: http.Server;
  private readonly zones = new Map<string, Map<string, string>>();
  private readonly ec2 = serviceModel("ec2");
  private readonly pricing = serviceModel("pricing");
  private readonly items: Record<string, unknown>[];

  constructor(
    private readonly upstream: string,
    private readonly spot: SpotRecord[] = recordedSpot(),
    onDemand: OnDemandTable = recordedOnDemand(),
    /** When the replayed snapshot ends (default: when the front starts). */
    private readonly endsAt?: number,
  ) {
    this.items = [...onDemand.prices].flatMap(([region, types]) =>
      [...types].map(([type, usd]) => priceListItem(region, type, usd, onDemand.generatedAt)),
    );
  }

  async start(): Promise<string> {
    const last = Math.max(...this.spot.map((r) => r.at));
    this.shiftMs = (this.endsAt ?? Date.now()) - last;
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        // A fault of the double itself: a 500 naming it (the SDK reports it; the test fails).
        this.route(req, Buffer.concat(chunks), res).catch((e) => {
          if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
          res.end(`fleet double fault: ${e instanceof Error ? e.stack : String(e)}`);
        });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this.endpoint;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private async route(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const target = String(req.headers["x-amz-target"] ?? "");
    if (target.startsWith(`${this.pricing.metadata.targetPrefix}.`)) return this.priceList(target, req, body, res);
    const form = String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");
    const params = form ? new URLSearchParams(body.toString("utf8")) : undefined;
    if (params?.get("Action") === "DescribeSpotPriceHistory") return this.spotHistory(req, params, res);
    return this.forward(req, body, res);
  }

  private forward(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.upstream);
    return new Promise((resolve, reject) => {
      const out = http.request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on("end", resolve);
      });
      out.on("error", reject);
      out.end(body);
    });
  }

  /** Zone ID -> zone name in a region, as moto's DescribeAvailabilityZones gives them. */
  private async zoneNames(region: string): Promise<Map<string, string>> {
    let z = this.zones.get(region);
    if (!z) {
      const client = new EC2Client({ region, endpoint: this.upstream, credentials: MOTO_CREDENTIALS });
      const r = await client.send(new DescribeAvailabilityZonesCommand({}));
      z = new Map((r.AvailabilityZones ?? []).map((a) => [a.ZoneId!, a.ZoneName!]));
      this.zones.set(region, z);
    }
    return z;
  }

  private async spotHistory(
    req: http.IncomingMessage,
    params: URLSearchParams,
    res: http.ServerResponse,
  ): Promise<void> {
    const requestId = `fleet-double-${this.calls.length + 1}`;
    try {
      const input = readEc2Query(this.ec2, "DescribeSpotPriceHistory", params) as {
        AvailabilityZone?: string;
        AvailabilityZoneId?: string;
        InstanceTypes?: string[];
        ProductDescriptions?: string[];
        Filters?: { Name?: string; Values?: string[] }[];
        StartTime?: Date;
        EndTime?: Date;
        MaxResults?: number;
        NextToken?: string;
      };
      const region = signedRegion(req);
      this.calls.push({ operation: "DescribeSpotPriceHistory", region, input });
      if (input.AvailabilityZone && input.AvailabilityZoneId) {
        throw new AwsModelError(
          "InvalidParameterCombination",
          "Either AvailabilityZone or AvailabilityZoneId can be specified, but not both",
        );
      }
      for (const f of input.Filters ?? []) {
        if (!SPOT_FILTERS.includes(f.Name ?? ""))
          throw new AwsModelError("InvalidParameterValue", `The filter '${f.Name}' is invalid`);
      }
      const zones = await this.zoneNames(region);
      const filter = (name: string) => input.Filters?.find((f) => f.Name === name)?.Values;
      const now = Date.now();
      const end = input.EndTime?.getTime() ?? now;
      const start = input.StartTime?.getTime() ?? now - 90 * 86_400_000;
      const types = input.InstanceTypes ?? filter("instance-type");
      const products = input.ProductDescriptions ?? filter("product-description");
      const zoneNames = input.AvailabilityZone ? [input.AvailabilityZone] : filter("availability-zone");
      const zoneIds = input.AvailabilityZoneId ? [input.AvailabilityZoneId] : filter("availability-zone-id");
      const picked = this.spot
        .map((r) => ({ ...r, at: r.at + this.shiftMs, zone: zones.get(r.azId) }))
        .filter((r) => r.zone !== undefined && r.at <= end)
        .filter((r) => (!types || types.includes(r.instanceType)) && (!products || products.includes(r.product)))
        .filter((r) => (!zoneNames || zoneNames.includes(r.zone!)) && (!zoneIds || zoneIds.includes(r.azId)));
      // Records in [start, end], and each pool's last record before start: "the effective price as
      // of the start time" (the operation's documentation in the definition).
      const before = new Map<string, (typeof picked)[number]>();
      for (const r of picked) {
        if (r.at >= start) continue;
        const k = `${r.azId}/${r.instanceType}/${r.product}`;
        if (!before.has(k) || before.get(k)!.at < r.at) before.set(k, r);
      }
      const rows = [...picked.filter((r) => r.at >= start), ...before.values()].sort((a, b) => b.at - a.at);
      const from = offsetOf(input.NextToken, "InvalidNextToken.Malformed");
      const size = input.MaxResults ?? 1000;
      const page = rows.slice(from, from + size);
      const value = {
        SpotPriceHistory: page.map((r) => ({
          AvailabilityZone: r.zone,
          AvailabilityZoneId: r.azId,
          InstanceType: r.instanceType,
          ProductDescription: r.product,
          SpotPrice: r.price,
          Timestamp: new Date(r.at),
        })),
        NextToken: from + size < rows.length ? token(from + size) : "",
      };
      const xml = ec2Response(this.ec2, "DescribeSpotPriceHistory", value, requestId);
      res.writeHead(200, { "content-type": "text/xml;charset=UTF-8" });
      res.end(xml);
    } catch (e) {
      if (!(e instanceof AwsModelError)) throw e;
      res.writeHead(400, { "content-type": "text/xml;charset=UTF-8" });
      const msg = e.message.replace(/&/g, "&amp;").replace(/</g, "&lt;");
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${e.code}</Code><Message>${msg}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      );
    }
  }

  private priceList(target: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const operation = target.slice(target.indexOf(".") + 1);
    const answer = (status: number, v: unknown) => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify(v));
    };
    try {
      if (operation !== "GetProducts")
        throw new AwsModelError("UnknownOperationException", `the double serves GetProducts only, not ${operation}`);
      let input: any;
      try {
        input = JSON.parse(body.toString("utf8") || "{}");
      } catch {
        throw new AwsModelError("SerializationException", "the body is not JSON");
      }
      checkJsonInput(this.pricing, "GetProducts", input, "InvalidParameterException");
      this.calls.push({ operation, region: signedRegion(req), input });
      if (input.FormatVersion !== undefined && input.FormatVersion !== "aws_v1") {
        throw new AwsModelError("InvalidParameterException", `FormatVersion: valid values are aws_v1`);
      }
      if (input.ServiceCode !== "AmazonEC2") {
        throw new AwsModelError(
          "NotFoundException",
          `the double holds the AmazonEC2 price list only, not ${input.ServiceCode}`,
        );
      }
      const found = this.items.filter((i: Record<string, any>) =>
        (input.Filters ?? []).every((f: any) => matches(i, f)),
      );
      const from = offsetOf(input.NextToken, "InvalidNextTokenException");
      const size = input.MaxResults ?? 100;
      answer(200, {
        FormatVersion: "aws_v1",
        PriceList: found.slice(from, from + size).map((i) => JSON.stringify(i)),
        ...(from + size < found.length ? { NextToken: token(from + size) } : {}),
      });
    } catch (e) {
      if (!(e instanceof AwsModelError)) throw e;
      answer(400, { __type: e.code, message: e.message });
    }
  }
}
