import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { backtest, oracleCost } from "../../reconciler/backtest";
import { parseGcpWeeklyCsv, readPriceFileText } from "../../reconciler/signals/prices-gcp-csv";
import type { PriceRecord } from "../../reconciler/model";
import { SHARED_DATA, runFleetInProcess, REPO } from "../helpers";

const FILE = path.join(SHARED_DATA, "gcp-spot-weekly-2023-05_2025-06.csv.gz");
const rows = parseGcpWeeklyCsv(readPriceFileText(FILE), FILE);
const WEEK_H = 168;

test("backtest (GCP weekly, 4 vCPU / 32 GB, all regions) meets its targets", () => {
  const r = backtest(rows, { vcpu: 4, ramGb: 32, regions: [], homeRegion: "us-central1", switchPenaltyHours: 1, gpu: false });
  assert.ok(r.oracleRatio <= 1.02, `oracleRatio ${r.oracleRatio}`);
  assert.ok(r.savingsPct >= 85, `savingsPct ${r.savingsPct}`);
  assert.ok(r.switches <= r.hours / WEEK_H / 8, `${r.switches} switches in ${r.hours / WEEK_H} weeks`);
  assert.ok(r.oracleCostUsd <= r.costUsd && r.oracleCostUsd <= r.stayCostUsd, "the oracle is a lower bound");
});

test("backtest (us-central1, us-east1, us-east4) meets its target", () => {
  const r = backtest(rows, { vcpu: 4, ramGb: 32, regions: ["us-central1", "us-east1", "us-east4"], homeRegion: "us-central1", switchPenaltyHours: 1, gpu: false });
  assert.ok(r.oracleRatio <= 1.03, `oracleRatio ${r.oracleRatio}`);
  assert.ok(r.costUsd <= r.stayCostUsd, "switching beat staying put");
});

test("backtest: GPU types only when asked", () => {
  const noGpu = backtest(rows, { vcpu: 4, ramGb: 16, regions: ["us-central1"], homeRegion: "us-central1", switchPenaltyHours: 1, gpu: false });
  const gpu = backtest(rows, { vcpu: 4, ramGb: 16, regions: ["us-central1"], homeRegion: "us-central1", switchPenaltyHours: 1, gpu: true });
  assert.ok(gpu.pools > noGpu.pools);
});

function brute(times: number[], priceAt: Map<string, PriceRecord>[], pools: string[], pen: number): number {
  let best = Infinity;
  const walk = (i: number, prev: string | null, cost: number) => {
    if (i === times.length - 1) return void (best = Math.min(best, cost));
    for (const p of pools) {
      const price = priceAt[i]!.get(p)?.spotHourUsd;
      if (price === undefined) continue;
      walk(i + 1, p, cost + price * ((times[i + 1]! - times[i]!) / 3_600_000) + (prev && prev !== p ? pen * price : 0));
    }
  };
  walk(0, null, 0);
  return best;
}

test("property: the dynamic-programming oracle equals brute force", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { minLength: 18, maxLength: 18 }), fc.double({ min: 0, max: 20, noNaN: true }), (steps, npools, prices, pen) => {
      const times = Array.from({ length: steps }, (_, i) => i * 3_600_000 * (1 + (i % 3)));
      const pools = Array.from({ length: npools }, (_, p) => `p${p}`);
      const priceAt = times.map((_, i) => new Map(pools.map((p, j) => [p, { spotHourUsd: prices[(i * 3 + j) % prices.length]! } as PriceRecord])));
      const dp = oracleCost(times, priceAt, pools, pen);
      assert.ok(Math.abs(dp - brute(times, priceAt, pools, pen)) < 1e-9);
    }),
    { numRuns: 200 },
  );
});

test("cli backtest --json prints the documented keys; bad flags exit 2", async () => {
  const r = await runFleetInProcess(["backtest", "--prices", FILE, "--vcpu", "4", "--ram-gb", "32", "--regions", "us-east1,us-east4", "--home-region", "us-east1", "--json"], { cwd: REPO });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ["hours", "costUsd", "onDemandCostUsd", "savingsPct", "switches", "oracleCostUsd", "oracleRatio", "stayCostUsd"]);
  const bad = await runFleetInProcess(["backtest", "--prices", FILE, "--vcpu", "-1", "--switch-penalty-hours", "x"], { cwd: REPO });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--vcpu: must be a number >= 1/);
  assert.match(bad.stderr, /--switch-penalty-hours: must be a number >= 0/);
  const nohome = await runFleetInProcess(["backtest", "--prices", FILE, "--home-region", "mars-1"], { cwd: REPO });
  assert.equal(nohome.code, 2);
  assert.match(nohome.stderr, /no matching pool in home region mars-1/);
});

test("cli forecast-eval: prints points and both errors; a bad horizon exits 2", async () => {
  const r = await runFleetInProcess(["forecast-eval", "--series", path.join(REPO, "test", "fixtures", "daily-series.csv"), "--json"], { cwd: REPO });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.points > 100 && out.mapeModel < out.mapeNaive, r.stdout);
  assert.equal((await runFleetInProcess(["forecast-eval", "--series", "x.csv", "--horizon", "soon"], { cwd: REPO })).code, 2);
  // Issue 18, item 8: no evaluable point printed "MAPE 0 %", as if the forecast were perfect.
  const short = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-fe-")), "short.csv");
  fs.writeFileSync(short, "timestamp,pool,price\n2026-11-01T00:00:00.000Z,gcp/us-east1/e2-standard-4,0.1\n2026-11-01T01:00:00.000Z,gcp/us-east1/e2-standard-4,0.11\n");
  const none = await runFleetInProcess(["forecast-eval", "--series", short, "--horizon", "30d"], { cwd: REPO });
  assert.equal(none.code, 2, none.stdout);
  assert.match(none.stderr, /no point has a value 30d after it/);
  assert.doesNotMatch(none.stdout, /mape/i);
});

// Issue 18, item 8: a large answer overflowed the table printer's stack.
test("table: 300,000 rows print without overflowing the stack", async () => {
  const { table } = await import("../../scripts/commands/table");
  const rows = [["ID", "PRICE"], ...Array.from({ length: 300_000 }, (_, i) => [String(i), "0.1"])];
  assert.equal(table(rows).split("\n").length, 300_001);
});
