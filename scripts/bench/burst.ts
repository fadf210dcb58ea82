import { decide } from "../../reconciler/decide";
import { EMPTY_DESIRED, FleetPolicySchema, SignalsSchema, type PriceRecord, type Signals } from "../../reconciler/model";
import { median, type Figure } from "./measure";

/** burst.decide.ms: median time of decide over 10,000 price rows and a 1,000-sample pressure history. */
export async function benchBurstDecide(): Promise<Figure[]> {
  const at = Date.parse("2026-11-22T12:00:00Z");
  const zones = ["us-central1-a", "us-central1-b", "us-east1-b", "us-east4-a", "us-west1-a", "europe-west1-b", "europe-west4-a"];
  const types = ["e2-standard-4", "e2-highmem-4", "n2d-standard-4", "t2d-standard-4", "n2-standard-4", "c3-standard-4", "e2-medium"];
  const prices: PriceRecord[] = Array.from({ length: 10_000 }, (_, i) => ({
    provider: "gcp",
    region: zones[i % zones.length]!.slice(0, -2),
    zone: i % 3 === 0 ? "" : zones[i % zones.length]!,
    machineType: types[(i >> 3) % types.length]!,
    vcpu: 4,
    ramGb: 16,
    spotHourUsd: 0.01 + ((i * 7919) % 1000) / 10_000,
    onDemandHourUsd: 0.2,
    at: new Date(at - (i % 500) * 3_600_000).toISOString(),
  }));
  // A history that climbs into high pressure at the end, so the scale-up path (pool choice, budget) runs.
  const samples = Array.from({ length: 1000 }, (_, i) => ({ at: new Date(at - (999 - i) * 15_000).toISOString(), memUsedPct: i > 990 ? 91 : 40 + (i % 40), swapUsedPct: 0 }));
  const signals: Signals = SignalsSchema.parse({ at: new Date(at).toISOString(), pressure: { samples }, prices, budget: { spentTodayUsd: 1 } });
  const policy = FleetPolicySchema.parse({});
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t0 = process.hrtime.bigint();
    const out = decide({ signals, policy, previous: EMPTY_DESIRED });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (out.desired.burst.vms.length !== 1) throw new Error("benchmark input no longer exercises scale-up");
  }
  return [{ name: "burst.decide.ms", value: median(times.slice(10)), unit: "ms" }];
}
