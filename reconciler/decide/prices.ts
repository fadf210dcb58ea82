import type { PriceRecord } from "../model";
import { HOUR_MS } from "./time";

/** A price usable for one zone (region-wide list prices expanded to the allowed zones of their region). */
export interface ZonePrice {
  zone: string;
  region: string;
  machineType: string;
  vcpu: number;
  ramGb: number;
  spotHourUsd: number;
  onDemandHourUsd: number;
  observedAtMs: number;
}

export function regionOfZone(zone: string): string {
  return zone.replace(/-[a-z]$/, "");
}

export interface CandidateFilter {
  provider: "gcp" | "aws";
  allowedZones: readonly string[];
  allowedMachineTypes: readonly string[];
  minVcpu: number;
  minRamGb: number;
  maxSpotHourUsd: number;
  maxPriceAgeHours: number;
}

export interface CandidateResult {
  candidates: ZonePrice[];
  /** Why records were passed over, counted, for the reason of a blocked decision. */
  rejected: { tooSmall: number; tooExpensive: number; stale: number; notAllowed: number; future: number };
}

/**
 * The usable (zone, machine type) pools, cheapest first; ties broken by zone then type so the
 * choice is deterministic. When one pool has several records, the newest observation wins.
 */
export function candidatePools(prices: readonly PriceRecord[], f: CandidateFilter, atMs: number): CandidateResult {
  const zones = new Set(f.allowedZones);
  const types = new Set(f.allowedMachineTypes);
  const zonesByRegion = new Map<string, string[]>();
  for (const z of f.allowedZones) {
    const r = regionOfZone(z);
    zonesByRegion.set(r, [...(zonesByRegion.get(r) ?? []), z]);
  }
  const rejected = { tooSmall: 0, tooExpensive: 0, stale: 0, notAllowed: 0, future: 0 };
  const newest = new Map<string, ZonePrice>();
  const maxAgeMs = f.maxPriceAgeHours * HOUR_MS;

  for (const p of prices) {
    if (p.provider !== f.provider || !types.has(p.machineType)) {
      rejected.notAllowed++;
      continue;
    }
    const pZones = p.zone ? (zones.has(p.zone) ? [p.zone] : []) : (zonesByRegion.get(p.region) ?? []);
    if (pZones.length === 0) {
      rejected.notAllowed++;
      continue;
    }
    if (p.vcpu < f.minVcpu || p.ramGb < f.minRamGb) {
      rejected.tooSmall++;
      continue;
    }
    const observedAtMs = p.at ? Date.parse(p.at) : atMs;
    if (observedAtMs > atMs) {
      rejected.future++; // never look ahead of the clock (and say how many were dated after it)
      continue;
    }
    if (atMs - observedAtMs > maxAgeMs) {
      rejected.stale++;
      continue;
    }
    if (p.spotHourUsd > f.maxSpotHourUsd) {
      rejected.tooExpensive++;
      continue;
    }
    for (const zone of pZones) {
      const key = `${zone}/${p.machineType}`;
      const prev = newest.get(key);
      if (!prev || observedAtMs > prev.observedAtMs) {
        newest.set(key, { zone, region: p.region, machineType: p.machineType, vcpu: p.vcpu, ramGb: p.ramGb, spotHourUsd: p.spotHourUsd, onDemandHourUsd: p.onDemandHourUsd, observedAtMs });
      }
    }
  }
  const candidates = [...newest.values()].sort(
    (a, b) => a.spotHourUsd - b.spotHourUsd || a.vcpu - b.vcpu || a.ramGb - b.ramGb || cmp(a.zone, b.zone) || cmp(a.machineType, b.machineType),
  );
  return { candidates, rejected };
}

/** The newest price of one pool at or before the clock, stale or not (for projecting what runs already). */
export function latestPrice(prices: readonly PriceRecord[], provider: string, zone: string, machineType: string, atMs: number): PriceRecord | undefined {
  const region = regionOfZone(zone);
  let best: PriceRecord | undefined;
  let bestAt = -Infinity;
  for (const p of prices) {
    if (p.provider !== provider || p.machineType !== machineType) continue;
    if (p.zone ? p.zone !== zone : p.region !== region) continue;
    const t = p.at ? Date.parse(p.at) : atMs;
    if (t <= atMs && t > bestAt) {
      best = p;
      bestAt = t;
    }
  }
  return best;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
