import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { PriceRecordSchema, type PriceRecord } from "../model";
import { gcpCall, type GcpAuth } from "../gcp/rest";
import type { PriceSource } from "./types";

/**
 * Live GCP prices from the Cloud Billing Catalog API (cloudbilling.v1 services.skus.list on Compute
 * Engine's service, every page). Compute Engine prices a machine type per vCPU hour and per GiB of
 * memory hour, one SKU each per machine family, region and usage type ("OnDemand", and "Preemptible"
 * for Spot). A machine type's price is vCPUs x the core rate + GiB x the RAM rate, for the shapes
 * (vCPU, memory) the bundled price file lists. Shared-core types (their own flat SKUs), custom,
 * sole-tenant and commitment SKUs and machine types with GPUs (their accelerators are priced
 * apart) are left out. The answer is cached in a file and refreshed once a day.
 */
export const COMPUTE_ENGINE_SERVICE = "services/6F81-5844-456A";
export const CATALOG_MAX_AGE_MS = 24 * 3_600_000;

/** A machine family's SKU description stem, as Compute Engine's SKUs name it. */
export const FAMILY_STEMS: Record<string, string> = {
  e2: "E2 Instance",
  n1: "N1 Predefined Instance",
  n2: "N2 Instance",
  n2d: "N2D AMD Instance",
  n4: "N4 Instance",
  c2: "Compute optimized",
  c2d: "C2D AMD Instance",
  c3: "C3 Instance",
  c3d: "C3D Instance",
  t2d: "T2D AMD Instance",
  m1: "Memory-optimized Instance",
};
const SHARED_CORE = /^(e2-(micro|small|medium)|f1-micro|g1-small)$/;

/** The fields of a Sku (cloudbilling.v1 discovery, schema Sku) this reads; the rest is ignored. */
const SkuSchema = z.looseObject({
  description: z.string(),
  category: z.looseObject({ resourceFamily: z.string().optional(), usageType: z.string().optional() }),
  serviceRegions: z.array(z.string()).default([]),
  pricingInfo: z
    .array(
      z.looseObject({
        pricingExpression: z.looseObject({
          usageUnit: z.string(),
          tieredRates: z.array(
            z.looseObject({
              startUsageAmount: z.number().optional(),
              unitPrice: z.looseObject({
                currencyCode: z.string(),
                units: z.string().optional(),
                nanos: z.number().optional(),
              }),
            }),
          ),
        }),
      }),
    )
    .default([]),
});
export type Sku = z.infer<typeof SkuSchema>;

type Market = "spot" | "onDemand";
type Rates = Map<string, { core?: number; ram?: number }>; // key: region|family|market

/** The hourly rate of a SKU in USD (the tier that starts at 0), or undefined. */
function hourlyRate(sku: Sku, unit: "h" | "GiBy.h"): number | undefined {
  const expr = sku.pricingInfo.at(-1)?.pricingExpression;
  if (!expr || expr.usageUnit !== unit) return undefined;
  const tier = expr.tieredRates.find((t) => (t.startUsageAmount ?? 0) === 0) ?? expr.tieredRates[0];
  if (!tier || tier.unitPrice.currencyCode !== "USD") return undefined;
  const usd = Number(tier.unitPrice.units ?? "0") + (tier.unitPrice.nanos ?? 0) / 1e9;
  return Number.isFinite(usd) && usd > 0 ? usd : undefined;
}

/** Core and RAM rates per region, family and market, from the catalog's SKUs. Pure. */
export function ratesFromSkus(skus: readonly Sku[]): Rates {
  const byStem = new Map(Object.entries(FAMILY_STEMS).map(([family, stem]) => [stem, family]));
  const rates: Rates = new Map();
  for (const sku of skus) {
    if (sku.category.resourceFamily !== "Compute") continue;
    const m = /^(Spot Preemptible )?(.+?) (Core|Ram) running in .+$/.exec(sku.description);
    if (!m) continue;
    const family = byStem.get(m[2]!);
    if (!family) continue; // custom, sole-tenant, extended memory, other families
    const spot = sku.category.usageType === "Preemptible" && !!m[1];
    const market: Market | undefined = spot
      ? "spot"
      : sku.category.usageType === "OnDemand" && !m[1]
        ? "onDemand"
        : undefined;
    if (!market) continue;
    const kind = m[3] === "Core" ? "core" : "ram";
    const rate = hourlyRate(sku, kind === "core" ? "h" : "GiBy.h");
    if (rate === undefined) continue;
    for (const region of sku.serviceRegions) {
      const key = `${region}|${family}|${market}`;
      rates.set(key, { ...rates.get(key), [kind]: rate });
    }
  }
  return rates;
}

export interface MachineShape {
  machineType: string;
  vcpu: number;
  ramGb: number;
  gpus?: number;
}

/** Price records for every shape in every region the rates cover, observed at `at`. Pure. */
export function catalogPrices(rates: Rates, shapes: readonly MachineShape[], at: string): PriceRecord[] {
  const regions = new Set([...rates.keys()].map((k) => k.split("|")[0]!));
  const out: PriceRecord[] = [];
  const round = (n: number) => Math.round(n * 1e6) / 1e6;
  for (const s of shapes) {
    if (SHARED_CORE.test(s.machineType) || (s.gpus ?? 0) > 0) continue;
    const family = s.machineType.split("-")[0]!;
    for (const region of regions) {
      const spot = rates.get(`${region}|${family}|spot`);
      const od = rates.get(`${region}|${family}|onDemand`);
      if (!spot?.core || !spot.ram || !od?.core || !od.ram) continue;
      const rec = {
        provider: "gcp" as const,
        region,
        zone: "",
        machineType: s.machineType,
        vcpu: s.vcpu,
        ramGb: s.ramGb,
        spotHourUsd: round(s.vcpu * spot.core + s.ramGb * spot.ram),
        onDemandHourUsd: round(s.vcpu * od.core + s.ramGb * od.ram),
        at,
      };
      const ok = PriceRecordSchema.safeParse(rec);
      if (ok.success) out.push(ok.data);
    }
  }
  return out;
}

/** Every SKU of Compute Engine, every page. */
export async function listComputeSkus(base: string, auth: GcpAuth): Promise<Sku[]> {
  const skus: Sku[] = [];
  let pageToken: string | undefined;
  for (let page = 0; ; page++) {
    if (page >= 200) throw new Error("the Cloud Billing Catalog kept answering pages (over 200): stopped");
    const q = new URLSearchParams({ currencyCode: "USD", pageSize: "5000", ...(pageToken ? { pageToken } : {}) });
    const json = await gcpCall(base, auth, "GET", `v1/${COMPUTE_ENGINE_SERVICE}/skus?${q}`, 60_000);
    for (const raw of Array.isArray(json.skus) ? json.skus : []) {
      const sku = SkuSchema.safeParse(raw);
      if (sku.success) skus.push(sku.data); // a SKU of another shape is not one Fleet prices
    }
    pageToken = typeof json.nextPageToken === "string" && json.nextPageToken ? json.nextPageToken : undefined;
    if (!pageToken) return skus;
  }
}

const CacheSchema = z.strictObject({ fetchedAt: z.iso.datetime(), prices: z.array(PriceRecordSchema) });

/**
 * Prices from the catalog, cached in `cacheFile` and refetched when the cache is over a day old.
 * A failed refetch keeps using a cache that is still within `maxPriceAgeHours` of the policy (the
 * records carry the fetch time, so the freshness check judges them); with no usable cache the error
 * surfaces and the cycle fails closed.
 */
export class GcpCatalogPriceSource implements PriceSource {
  private fetchedAt: string | null = null;
  constructor(
    private readonly opts: {
      base: string;
      auth: GcpAuth;
      cacheFile: string;
      shapes: () => MachineShape[];
      now: () => number;
      onRefreshError?: (e: unknown) => void;
    },
  ) {}

  private readCache(): z.infer<typeof CacheSchema> | null {
    try {
      return CacheSchema.parse(JSON.parse(fs.readFileSync(this.opts.cacheFile, "utf8")));
    } catch {
      return null; // none, or not ours: fetch
    }
  }

  async prices(): Promise<PriceRecord[]> {
    const cached = this.readCache();
    const age = cached ? this.opts.now() - Date.parse(cached.fetchedAt) : Infinity;
    if (cached && age >= 0 && age < CATALOG_MAX_AGE_MS) {
      this.fetchedAt = cached.fetchedAt;
      return cached.prices;
    }
    try {
      const at = new Date(this.opts.now()).toISOString();
      const prices = catalogPrices(
        ratesFromSkus(await listComputeSkus(this.opts.base, this.opts.auth)),
        this.opts.shapes(),
        at,
      );
      if (!prices.length) throw new Error("the Cloud Billing Catalog gave no price for any machine type Fleet knows");
      fs.mkdirSync(path.dirname(this.opts.cacheFile), { recursive: true, mode: 0o700 });
      const tmp = `${this.opts.cacheFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ fetchedAt: at, prices }), { mode: 0o600 });
      fs.renameSync(tmp, this.opts.cacheFile);
      this.fetchedAt = at;
      return prices;
    } catch (e) {
      if (!cached) throw e;
      this.opts.onRefreshError?.(e);
      this.fetchedAt = cached.fetchedAt;
      return cached.prices;
    }
  }

  describe(): string {
    if (!this.fetchedAt) return "GCP Cloud Billing Catalog (not read yet)";
    const hours = (this.opts.now() - Date.parse(this.fetchedAt)) / 3_600_000;
    return `GCP Cloud Billing Catalog, fetched ${this.fetchedAt} (${hours.toFixed(1)} h old), cached in ${this.opts.cacheFile}`;
  }
}
