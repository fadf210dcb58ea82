import * as path from "node:path";
import { backtest } from "../../reconciler/backtest";
import { decidePool } from "../../reconciler/decide/pool";
import { PoolPolicySchema, type PriceRecord } from "../../reconciler/model";
import { parseGcpWeeklyCsv, readPriceFileText } from "../../reconciler/signals/prices-gcp-csv";
import { median, timeIt, type Figure } from "./measure";

/** pool.decide10k.ms: median time of decidePool over 10,000 pools with 4 history points each. */
export async function benchPoolDecide(): Promise<Figure[]> {
  const at = Date.parse("2026-11-22T12:00:00Z");
  const prices: PriceRecord[] = [];
  for (let i = 0; i < 10_000; i++) {
    for (let k = 0; k < 4; k++) {
      prices.push({ provider: "aws", region: `r${i % 30}`, zone: `r${i % 30}-az${i % 3}`, machineType: `t${i}.large`, vcpu: 4 + (i % 4) * 4, ramGb: 16 + (i % 4) * 16, spotHourUsd: 0.02 + ((i * 7 + k) % 100) / 1000, onDemandHourUsd: 0.2 + (i % 4) * 0.2, at: new Date(at - (3 - k) * 3_600_000).toISOString() });
    }
  }
  const policy = PoolPolicySchema.parse({ enabled: true, providers: ["aws"], homeRegion: "r0" });
  const previous = { provider: "aws" as const, region: "r1", zone: "r1-az1", instanceType: "t1.large", vcpu: 8, ramGb: 32, market: "spot" as const, hourUsd: 0.05, since: "2026-11-22T00:00:00.000Z" };
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    times.push((await timeIt(() => decidePool({ previous, policy, atMs: at, signals: { prices, usage: null, actual: { burst: [], hpc: null, pool: null, standby: null } } }))).ms);
  }
  return [{ name: "pool.decide10k.ms", value: median(times.slice(3)), unit: "ms" }];
}

/** pool.backtest.s: the whole GCP weekly backtest (parse included), 4 vCPU / 32 GB, all regions. */
export async function benchPoolBacktest(): Promise<Figure[]> {
  const file = path.resolve(__dirname, "..", "..", "..", "shared", "data", "gcp-spot-weekly-2023-05_2025-06.csv.gz");
  const { ms, value } = await timeIt(() => backtest(parseGcpWeeklyCsv(readPriceFileText(file), file), { vcpu: 4, ramGb: 32, regions: [], homeRegion: "us-central1", switchPenaltyHours: 1, gpu: false }));
  return [
    { name: "pool.backtest.s", value: ms / 1000, unit: "s" },
    { name: "pool.backtest.oracle_ratio", value: value.oracleRatio, unit: "x" },
  ];
}
