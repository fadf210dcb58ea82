import { EC2Client, paginateDescribeInstanceTypes, paginateDescribeSpotPriceHistory, type _InstanceType } from "@aws-sdk/client-ec2";
import { InputError, type Problem } from "../errors";
import { PriceRecordSchema, type PriceRecord } from "../model";
import type { PriceSource } from "./types";

export interface InstanceSpec {
  vcpu: number;
  ramGb: number;
  gpus: number;
}

export interface AwsPriceOptions {
  regions: string[];
  productDescription?: string;
  /** Only these types (none: every type the region offers). */
  instanceTypes?: string[];
  /** How much history to read (the forecast wants some). */
  lookbackHours: number;
  /** On-demand price of a type in a region (the EC2 API has none; the AWS Price List API does). */
  onDemandHourUsd: (region: string, instanceType: string) => number | undefined | Promise<number | undefined>;
  /** Types worth pricing (policy bounds); others are skipped before any on-demand lookup. */
  accept?: (instanceType: string, spec: InstanceSpec) => boolean;
  client: (region: string) => EC2Client;
  now: () => number;
}

/** The instance-type catalog of a region (vCPUs, memory, GPUs) from DescribeInstanceTypes, all pages. */
export async function instanceCatalog(client: EC2Client, types?: string[]): Promise<Map<string, InstanceSpec>> {
  const catalog = new Map<string, InstanceSpec>();
  for await (const page of paginateDescribeInstanceTypes({ client }, types?.length ? { InstanceTypes: types as _InstanceType[] } : {})) {
    for (const t of page.InstanceTypes ?? []) {
      if (!t.InstanceType || !t.VCpuInfo?.DefaultVCpus || !t.MemoryInfo?.SizeInMiB) continue;
      catalog.set(t.InstanceType, { vcpu: t.VCpuInfo.DefaultVCpus, ramGb: t.MemoryInfo.SizeInMiB / 1024, gpus: (t.GpuInfo?.Gpus ?? []).reduce((a, g) => a + (g.Count ?? 0), 0) });
    }
  }
  return catalog;
}

/**
 * Spot prices from DescribeSpotPriceHistory (every page) for each region, joined with the catalog.
 * A record the API returns malformed is an error naming the region and item; a type missing from
 * the catalog or without an on-demand price is left out and counted in `skipped`.
 */
export class AwsSpotPriceSource implements PriceSource {
  skipped: { region: string; instanceType: string; why: string }[] = [];
  constructor(private readonly opts: AwsPriceOptions) {}

  async prices(): Promise<PriceRecord[]> {
    const out: PriceRecord[] = [];
    const problems: Problem[] = [];
    this.skipped = [];
    const start = new Date(this.opts.now() - this.opts.lookbackHours * 3_600_000);
    for (const region of this.opts.regions) {
      const client = this.opts.client(region);
      const catalog = await instanceCatalog(client, this.opts.instanceTypes);
      let n = 0;
      for await (const page of paginateDescribeSpotPriceHistory(
        { client },
        { StartTime: start, ProductDescriptions: [this.opts.productDescription ?? "Linux/UNIX"], ...(this.opts.instanceTypes?.length ? { InstanceTypes: this.opts.instanceTypes as _InstanceType[] } : {}) },
      )) {
        for (const item of page.SpotPriceHistory ?? []) {
          n++;
          const type = item.InstanceType ?? "";
          const spec = catalog.get(type);
          if (spec && this.opts.accept && !this.opts.accept(type, spec)) continue;
          const od = spec ? await this.opts.onDemandHourUsd(region, type) : undefined;
          if (!spec || od === undefined) {
            this.skipped.push({ region, instanceType: type, why: !spec ? "not in DescribeInstanceTypes" : "no on-demand price" });
            continue;
          }
          const rec = PriceRecordSchema.safeParse({
            provider: "aws",
            region,
            zone: item.AvailabilityZone ?? "",
            machineType: type,
            vcpu: spec.vcpu,
            ramGb: spec.ramGb,
            spotHourUsd: item.SpotPrice === undefined || item.SpotPrice.trim() === "" ? NaN : Number(item.SpotPrice),
            onDemandHourUsd: od,
            at: item.Timestamp?.toISOString(),
          });
          if (rec.success) out.push(rec.data);
          else for (const i of rec.error.issues) problems.push({ field: `DescribeSpotPriceHistory ${region} item ${n} (${type} ${item.AvailabilityZone}) ${i.path.join(".")}`, message: i.message });
        }
      }
    }
    if (problems.length) throw new InputError("AWS spot price history", problems.slice(0, 50));
    return out;
  }
}
