import { test } from "node:test";
import assert from "node:assert/strict";
import { classifyUsage, decidePool } from "../../reconciler/decide/pool";
import { PoolPolicySchema, type DesiredPool, type PriceRecord, type Usage } from "../../reconciler/model";

const AT = Date.parse("2026-11-22T12:00:00Z");
const H = 3_600_000;
const policy = (over: Record<string, unknown> = {}) => PoolPolicySchema.parse({ enabled: true, minVcpu: 4, minRamGb: 16, ...over });
/** A pool with a flat price history (8 hourly points). */
function pool(region: string, type: string, spot: number, od = 0.2, vcpu = 4, ramGb = 16, prices?: number[]): PriceRecord[] {
  return (prices ?? Array(8).fill(spot)).map((p, i) => ({ provider: "gcp", region, zone: "", machineType: type, vcpu, ramGb, spotHourUsd: p, onDemandHourUsd: od, at: new Date(AT - (7 - i) * H).toISOString() }));
}
const current = (over: Partial<DesiredPool> = {}): DesiredPool => ({ provider: "gcp", region: "us-central1", zone: "", instanceType: "e2-standard-4", vcpu: 4, ramGb: 16, market: "spot", hourUsd: 0.05, since: "2026-11-22T08:00:00.000Z", ...over });
type Observed = { usage?: Usage | null; interruption?: "none" | "interruption" | "rebalance"; state?: "running" | "terminated" | "missing" };
const run = (prices: PriceRecord[], cur: DesiredPool | null, over: Record<string, unknown> = {}, extra: Observed = {}) => {
  const seen = extra.interruption || extra.state;
  const pool = seen ? { instanceId: "i-1", state: extra.state ?? "running", interruption: extra.interruption ?? "none" } : null;
  const actual = { burst: [], hpc: null, pool, standby: null };
  return decidePool({ previous: cur, policy: policy(over), atMs: AT, signals: { prices, usage: extra.usage ?? null, actual } });
};

test("pool: first placement goes to the cheapest safe pool", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.04)], null);
  assert.equal(out.decisions[0]!.kind, "switch");
  assert.equal(out.desired!.region, "us-east1");
  assert.match(out.decisions[0]!.reason, /cheapest safe pool, e2-standard-4 in us-east1 at \$0\.04\/h predicted \(naive, discount 80%/);
});

test("pool: stays when the best alternative gains less than minFutureDiscountGainPct", () => {
  // 0.05 -> 0.045 on a 0.2 reference is 2.5 points (< 3)
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.045)], current());
  assert.equal(out.decisions[0]!.kind, "noop");
  assert.match(out.decisions[0]!.reason, /gains 2\.5 points \(< 3\)/);
  assert.deepEqual(out.desired, current());
});

test("pool: switches when the gain reaches minFutureDiscountGainPct", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.044)], current());
  assert.equal(out.decisions[0]!.kind, "switch");
  assert.match(out.decisions[0]!.reason, /predicted gain 3 points/);
  assert.equal(out.desired!.since, new Date(AT).toISOString());
});

test("pool: a gain inside the cooldown waits", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.02)], current({ since: new Date(AT - 5 * 60_000).toISOString() }));
  assert.equal(out.decisions[0]!.kind, "keep");
  assert.match(out.decisions[0]!.reason, /inside the 10 min cooldown/);
});

test("pool: an interruption moves at once, even inside the cooldown", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.05)], current({ since: new Date(AT - 60_000).toISOString() }), {}, { interruption: "interruption" });
  assert.equal(out.decisions[0]!.kind, "switch");
  assert.match(out.decisions[0]!.reason, /being interrupted \(interruption\): switch to e2-standard-4 in us-east1/);
  assert.equal(out.desired!.region, "us-east1", "away from the pool being reclaimed, though it sorts first");
});

test("pool: an interruption with no other safe spot pool falls back to on-demand, never back onto the reclaimed pool", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.19)], current(), {}, { interruption: "interruption" });
  assert.equal(out.decisions[0]!.kind, "fallback");
  assert.equal(out.desired!.market, "on-demand");
});

test("pool: an instance already gone is restored on its pool when that is still the cheapest, and says so", () => {
  const prices = [...pool("us-central1", "e2-standard-4", 0.05), ...pool("us-east1", "e2-standard-4", 0.05)];
  const gone = run(prices, current(), {}, { state: "terminated" });
  assert.equal(gone.desired!.region, "us-central1");
  assert.match(gone.decisions[0]!.reason, /gone \(terminated\): restore it on its pool, e2-standard-4 in us-central1/);
});

test("pool: hysteresis: the current pool stays at 62% discount; a new pool needs 65%", () => {
  // current: 0.076 / 0.2 -> 62% (>= 60 stays); the alternative at 0.072 -> 64% (< 65, not safe to enter)
  const out = run([...pool("us-central1", "e2-standard-4", 0.076), ...pool("us-east1", "e2-standard-4", 0.072)], current());
  assert.equal(out.decisions[0]!.kind, "noop");
  const bad = run([...pool("us-central1", "e2-standard-4", 0.09), ...pool("us-east1", "e2-standard-4", 0.068)], current());
  assert.equal(bad.decisions[0]!.kind, "switch");
  assert.match(bad.decisions[0]!.reason, /current pool turned unsafe \(discount below 60%/);
});

test("pool: volatile pools are unsafe", () => {
  const jumpy = pool("us-east1", "e2-standard-4", 0, 0.2, 4, 16, [0.02, 0.05, 0.02, 0.05, 0.02, 0.05, 0.02, 0.02]);
  const out = run([...pool("us-central1", "e2-standard-4", 0.05), ...jumpy], null);
  assert.equal(out.desired!.region, "us-central1");
});

test("pool: no safe spot pool and under-provisioned -> FALLBACK to on-demand; back to spot when safe", () => {
  const unsafe = [...pool("us-central1", "e2-standard-4", 0.15), ...pool("us-central1", "e2-standard-8", 0.3, 0.4, 8, 32)];
  const usage = { cpuP95Pct: 95, memP95Pct: 50, netP95Mbps: null };
  const out = run(unsafe, current(), {}, { usage });
  assert.equal(out.usage, "under");
  assert.equal(out.decisions[0]!.kind, "fallback");
  assert.equal(out.desired!.market, "on-demand");
  assert.equal(out.desired!.instanceType, "e2-standard-8", "under-provisioned: the fallback is bigger");
  // On the bigger instance usage is right-sized; a safe spot pool of that size appears.
  const back = run([...pool("us-central1", "e2-standard-8", 0.1, 0.4, 8, 32)], out.desired, {}, { usage: { cpuP95Pct: 50, memP95Pct: 50, netP95Mbps: null } });
  assert.equal(back.decisions[0]!.kind, "switch");
  assert.equal(back.desired!.market, "spot");
  assert.match(back.decisions[0]!.reason, /back to spot/);
});

test("pool: no safe pool but the instance is fine -> keep", () => {
  const out = run([...pool("us-central1", "e2-standard-4", 0.15)], current());
  assert.equal(out.decisions[0]!.kind, "keep");
});

test("pool: over-provisioned may move to a smaller type when allowed", () => {
  const prices = [...pool("us-central1", "e2-standard-8", 0.08, 0.4, 8, 32), ...pool("us-central1", "e2-standard-4", 0.04, 0.2, 4, 16)];
  const cur = current({ instanceType: "e2-standard-8", vcpu: 8, ramGb: 32, hourUsd: 0.08 });
  const usage = { cpuP95Pct: 10, memP95Pct: 20, netP95Mbps: null };
  assert.equal(run(prices, cur, {}, { usage }).desired!.instanceType, "e2-standard-4");
  assert.equal(run(prices, cur, { allowDownsize: false }, { usage }).desired!.instanceType, "e2-standard-8");
});

test("pool: regions, families and max price filter candidates", () => {
  const prices = [...pool("us-central1", "e2-standard-4", 0.05), ...pool("europe-west1", "e2-standard-4", 0.01), ...pool("us-east1", "n2-standard-4", 0.02)];
  assert.equal(run(prices, null, { allowedRegions: ["us-"] }).desired!.region, "us-east1");
  assert.equal(run(prices, null, { allowedRegions: ["us-"], allowedFamilies: ["e2"] }).desired!.region, "us-central1");
  assert.equal(run(prices, null, { maxSpotHourUsd: 0.005 }).desired, null);
});

const usageCases: [Usage | null, string][] = [
  [null, "unknown"],
  [{ cpuP95Pct: 10, memP95Pct: 20, netP95Mbps: null }, "over"],
  [{ cpuP95Pct: 10, memP95Pct: 50, netP95Mbps: null }, "right"],
  [{ cpuP95Pct: 10, memP95Pct: null, netP95Mbps: null }, "over"],
  [{ cpuP95Pct: 85, memP95Pct: 20, netP95Mbps: null }, "under"],
  [{ cpuP95Pct: 50, memP95Pct: 81, netP95Mbps: null }, "under"],
  [{ cpuP95Pct: 50, memP95Pct: 50, netP95Mbps: null }, "right"],
];
for (const [usage, want] of usageCases) {
  test(`pool usage: ${JSON.stringify(usage)} -> ${want}`, () => assert.equal(classifyUsage(usage, policy().usage), want));
}

test("pool: disabled removes the pool instance", () => {
  const out = run([], current(), { enabled: false });
  assert.equal(out.decisions[0]!.kind, "destroy");
  assert.equal(out.desired, null);
});

test("pool: a GPU machine type (from the GCP price file's gpu_count) is a candidate only when pool.gpu is set", async () => {
  const { GcpCsvPriceSource } = await import("../../reconciler/signals/prices-gcp-csv");
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gpu-")), "prices.csv");
  const header = "week_start_utc,machine_type,region,vcpu,ram_gb,gpu,gpu_count,on_demand_hour,spot_hour";
  const rows = Array.from({ length: 8 }, (_, i) => new Date(AT - (7 - i) * H).toISOString().replace(".000", "")).flatMap((t) => [
    `${t},g2-standard-4,us-central1,4,16,l4,1,0.7,0.02`,
    `${t},e2-standard-4,us-central1,4,16,,,0.2,0.05`,
  ]);
  fs.writeFileSync(file, [header, ...rows].join("\n") + "\n");
  const prices = await new GcpCsvPriceSource(file, () => AT).prices();
  assert.deepEqual([...new Set(prices.map((p) => `${p.machineType}:${p.gpus ?? 0}`))].sort(), ["e2-standard-4:0", "g2-standard-4:1"]);
  // The L4 machine is far cheaper per discount, yet a CPU pool never lands on it.
  assert.equal(run(prices, null).desired!.instanceType, "e2-standard-4");
  assert.equal(run(prices, null, { gpu: true }).desired!.instanceType, "g2-standard-4");
});
