import { decidePool, poolKey } from "./decide/pool";
import { HOUR_MS, round } from "./decide/time";
import { PoolPolicySchema, type DesiredPool, type PoolPolicy, type PriceRecord } from "./model";

export interface BacktestOptions {
  vcpu: number;
  ramGb: number;
  /** Region names or prefixes ending in '-'; empty: every region in the file. */
  regions: string[];
  homeRegion: string;
  switchPenaltyHours: number;
  gpu: boolean;
  /** Snapshots of history the forecast sees at each step. */
  historySnapshots?: number;
  /** Other pool policy keys (thresholds) to replay with. */
  policy?: Partial<PoolPolicy>;
}

export interface BacktestResult {
  hours: number;
  costUsd: number;
  onDemandCostUsd: number;
  savingsPct: number;
  switches: number;
  oracleCostUsd: number;
  oracleRatio: number;
  stayCostUsd: number;
  steps: number;
  pools: number;
}

type Row = PriceRecord & { gpuCount?: number };

function regionAllowed(region: string, allowed: readonly string[]): boolean {
  return allowed.length === 0 || allowed.some((a) => (a.endsWith("-") ? region.startsWith(a) : region === a));
}

/**
 * Replays a recorded price file through the same decidePool, one step per snapshot, for one instance
 * needing at least `vcpu`/`ramGb`. Costs: each interval between snapshots at the chosen pool's price
 * in force, plus `switchPenaltyHours` of the new pool's price per switch. The oracle is the exact
 * perfect-foresight minimum over the same pools with the same penalty (dynamic programming).
 */
export function backtest(rows: readonly Row[], opts: BacktestOptions): BacktestResult {
  const usable = rows.filter((r) => r.vcpu >= opts.vcpu && r.ramGb >= opts.ramGb && (opts.gpu || !r.gpuCount) && regionAllowed(r.region, opts.regions));
  const times = [...new Set(usable.map((r) => Date.parse(r.at!)))].sort((a, b) => a - b);
  if (times.length < 2) throw new Error(`backtest needs at least 2 snapshots with matching pools, found ${times.length}`);
  const bySnapshot = new Map<number, Row[]>();
  for (const r of usable) {
    const t = Date.parse(r.at!);
    (bySnapshot.get(t) ?? bySnapshot.set(t, []).get(t)!).push(r);
  }
  const priceAt = times.map((t) => new Map(bySnapshot.get(t)!.map((r) => [poolKey(r), r])));
  const pools = [...new Set(usable.map((r) => poolKey(r)))].sort();
  const policy = PoolPolicySchema.parse({
    enabled: true,
    providers: [...new Set(usable.map((r) => r.provider))],
    allowedRegions: opts.regions,
    homeRegion: opts.homeRegion,
    minVcpu: opts.vcpu,
    minRamGb: opts.ramGb,
    maxVcpu: 1e6,
    maxRamGb: 1e6,
    gpu: opts.gpu,
    maxSpotHourUsd: 1e6,
    switchPenaltyHours: opts.switchPenaltyHours,
    ...opts.policy,
  });
  const history = opts.historySnapshots ?? 8;

  let cost = 0;
  let onDemand = 0;
  let stay = 0;
  let switches = 0;
  let hours = 0;
  let current: DesiredPool | null = null;
  // The fixed choice: the home region's cheapest matching type at the start.
  const home0 = bySnapshot.get(times[0]!)!.filter((r) => r.region === opts.homeRegion).sort((a, b) => a.spotHourUsd - b.spotHourUsd)[0];
  if (!home0) throw new Error(`no matching pool in home region ${opts.homeRegion} at the first snapshot`);
  const stayKey = poolKey(home0);

  for (let i = 0; i < times.length - 1; i++) {
    const dtH = (times[i + 1]! - times[i]!) / HOUR_MS;
    hours += dtH;
    const window = times.slice(Math.max(0, i - history + 1), i + 1).flatMap((t) => bySnapshot.get(t)!);
    const out = decidePool({ previous: current, signals: { prices: window, usage: null, actual: { burst: [], hpc: null, pool: null, standby: null } }, policy, atMs: times[i]! });
    const next = out.desired;
    if (!next) throw new Error(`step ${i}: no pool chosen (${out.decisions.map((x) => x.reason).join("; ")})`);
    const rec = priceAt[i]!.get(poolKey(next));
    const hourUsd = next.market === "spot" ? (rec?.spotHourUsd ?? next.hourUsd) : next.hourUsd;
    if (current && poolKey(current) !== poolKey(next)) {
      switches++;
      cost += opts.switchPenaltyHours * hourUsd;
    }
    cost += hourUsd * dtH;
    current = next;

    const homeOd = bySnapshot.get(times[i]!)!.filter((r) => r.region === opts.homeRegion).map((r) => r.onDemandHourUsd);
    onDemand += Math.min(...homeOd) * dtH;
    stay += (priceAt[i]!.get(stayKey)?.spotHourUsd ?? home0.spotHourUsd) * dtH;
  }
  const oracle = oracleCost(times, priceAt, pools, opts.switchPenaltyHours);
  return {
    hours: round(hours, 2),
    costUsd: round(cost, 4),
    onDemandCostUsd: round(onDemand, 4),
    savingsPct: round((1 - cost / onDemand) * 100, 2),
    switches,
    oracleCostUsd: round(oracle, 4),
    oracleRatio: round(cost / oracle, 4),
    stayCostUsd: round(stay, 4),
    steps: times.length - 1,
    pools: pools.length,
  };
}

/**
 * The perfect-foresight minimum: best[p] = cheapest cost of intervals 0..i ending in pool p, where
 * entering p from another pool costs penalty hours of p's price. O(steps x pools). A pool without a
 * price at a step cannot be used at that step.
 */
export function oracleCost(times: number[], priceAt: Map<string, PriceRecord>[], pools: string[], penaltyHours: number): number {
  let best = new Map<string, number>();
  for (let i = 0; i < times.length - 1; i++) {
    const dtH = (times[i + 1]! - times[i]!) / HOUR_MS;
    const prevMin = i === 0 ? 0 : Math.min(...best.values());
    const next = new Map<string, number>();
    for (const p of pools) {
      const price = priceAt[i]!.get(p)?.spotHourUsd;
      if (price === undefined) continue;
      const stayHere = best.get(p) ?? Infinity;
      const enter = i === 0 ? 0 : prevMin + penaltyHours * price;
      next.set(p, Math.min(stayHere, enter) + price * dtH);
    }
    best = next;
  }
  return Math.min(...best.values());
}
