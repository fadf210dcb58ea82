import { forecast, type Forecast, type Point } from "../forecast";
import type { Decision, DesiredPool, PoolPolicy, PriceRecord, Signals } from "../model";
import { HOUR_MS, iso, round } from "./time";

/** One pool's price history and forecast. */
export interface PoolView {
  key: string;
  provider: "gcp" | "aws";
  region: string;
  zone: string;
  instanceType: string;
  vcpu: number;
  ramGb: number;
  spotHourUsd: number;
  onDemandHourUsd: number;
  forecast: Forecast;
}

export type UsageClass = "over" | "under" | "right" | "unknown";

export function poolKey(p: { provider: string; region: string; zone: string; instanceType?: string; machineType?: string }): string {
  return `${p.provider}/${p.region}/${p.zone}/${p.instanceType ?? p.machineType}`;
}

function regionAllowed(region: string, allowed: readonly string[]): boolean {
  return allowed.length === 0 || allowed.some((a) => (a.endsWith("-") ? region.startsWith(a) : region === a));
}

function familyOf(type: string): string {
  return type.split(/[-.]/)[0]!;
}

/** Price histories grouped per pool (records at or before the clock), with forecasts. Pure. */
export function poolViews(prices: readonly PriceRecord[], atMs: number, horizonMs: number, filter: (p: PriceRecord) => boolean): PoolView[] {
  const groups = new Map<string, { rec: PriceRecord; points: Point[] }>();
  for (const p of prices) {
    if (!filter(p)) continue;
    const t = p.at ? Date.parse(p.at) : atMs;
    if (t > atMs) continue;
    const key = poolKey(p);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { rec: p, points: [] }));
    g.points.push({ t, price: p.spotHourUsd });
    if (t >= (g.rec.at ? Date.parse(g.rec.at) : atMs)) g.rec = p;
  }
  const views: PoolView[] = [];
  for (const [key, g] of groups) {
    g.points.sort((a, b) => a.t - b.t);
    const f = forecast(g.points, atMs, horizonMs);
    if (!f) continue;
    const r = g.rec;
    views.push({ key, provider: r.provider, region: r.region, zone: r.zone, instanceType: r.machineType, vcpu: r.vcpu, ramGb: r.ramGb, spotHourUsd: r.spotHourUsd, onDemandHourUsd: r.onDemandHourUsd, forecast: f });
  }
  return views;
}

export function classifyUsage(usage: Signals["usage"], p: PoolPolicy["usage"]): UsageClass {
  if (!usage) return "unknown";
  const mem = usage.memP95Pct;
  if (usage.cpuP95Pct > p.underCpuAbovePct || (mem !== null && mem > p.underMemAbovePct)) return "under";
  if (usage.cpuP95Pct < p.overCpuBelowPct && (mem === null || mem < p.overMemBelowPct)) return "over";
  return "right";
}

export interface PoolOutcome {
  desired: DesiredPool | null;
  decisions: Decision[];
  usage: UsageClass;
}

const pct = (x: number) => `${round(x * 100, 1)}%`;

/**
 * The pool decision (pure): evaluate the current pool's predicted discount and volatility, filter
 * candidates by the right-sizing rules, regions, families and price, and decide STAY, SWITCH
 * (a clear predicted gain or a clear risk improvement, after the cooldown; at once when the current
 * pool turns bad or the instance is being interrupted) or FALLBACK to on-demand (no safe spot pool,
 * and the instance is under-provisioned or its pool is failing); back to spot when one is safe again.
 */
export function decidePool(args: { previous: DesiredPool | null; signals: Pick<Signals, "prices" | "usage" | "actual">; policy: PoolPolicy; atMs: number }): PoolOutcome {
  const { previous: cur, policy: pp, atMs } = args;
  const decisions: Decision[] = [];
  const d = (kind: Decision["kind"], reason: string, to: DesiredPool | null) => decisions.push({ area: "pool", kind, reason, from: cur ? poolKey(cur) : null, to: to ? poolKey(to) : null });
  const usage = classifyUsage(args.signals.usage, pp.usage);
  if (!pp.enabled) {
    if (cur) d("destroy", "pool.enabled is false: remove the pool instance", null);
    else d("noop", "pool area disabled", null);
    return { desired: null, decisions, usage };
  }

  // Right-sizing relative to the current instance: under-provisioned must grow (more vCPU or RAM, less
  // of neither), over-provisioned may shrink; allowUpsize/allowDownsize bound every move.
  const grows = (v: { vcpu: number; ramGb: number }) => !!cur && v.vcpu >= cur.vcpu && v.ramGb >= cur.ramGb && (v.vcpu > cur.vcpu || v.ramGb > cur.ramGb);
  const biggerThanCur = (v: { vcpu: number; ramGb: number }) => !!cur && (v.vcpu > cur.vcpu || v.ramGb > cur.ramGb);
  const smallerThanCur = (v: { vcpu: number; ramGb: number }) => !!cur && (v.vcpu < cur.vcpu || v.ramGb < cur.ramGb);
  const sizeRule = (v: { vcpu: number; ramGb: number }): boolean => {
    if (!cur) return true;
    if (!pp.allowUpsize && biggerThanCur(v)) return false;
    if (!pp.allowDownsize && smallerThanCur(v)) return false;
    if (usage === "under" && pp.allowUpsize) return grows(v);
    if (usage !== "over" && smallerThanCur(v)) return false; // shrink only when over-provisioned
    return true;
  };
  const families = new Set(pp.allowedFamilies);
  // A machine type that comes with GPUs is a candidate only when the pool asks for GPUs (pool.gpu).
  const inPolicy = (p: { provider: "gcp" | "aws"; region: string; machineType: string; gpus?: number }) =>
    pp.providers.includes(p.provider) &&
    regionAllowed(p.region, pp.allowedRegions) &&
    (families.size === 0 || families.has(familyOf(p.machineType))) &&
    (pp.gpu || !p.gpus);
  const views = poolViews(args.signals.prices, atMs, pp.horizonHours * HOUR_MS, (p) => inPolicy(p) && p.vcpu >= pp.minVcpu && p.ramGb >= pp.minRamGb && p.vcpu <= pp.maxVcpu && p.ramGb <= pp.maxRamGb);

  const discount = (v: PoolView) => (v.onDemandHourUsd > 0 ? 1 - v.forecast.price / v.onDemandHourUsd : 0);
  // Hysteresis: a new pool must clear baseline + margin; the current one turns unsafe only below the baseline.
  const enterBar = (pp.baselineDiscountPct + pp.discountMarginPct) / 100;
  const stayBar = pp.baselineDiscountPct / 100;
  const safeAt = (bar: number) => (v: PoolView) => discount(v) >= bar && v.forecast.volatility <= pp.maxVolatility && v.forecast.price <= pp.maxSpotHourUsd;
  const safe = safeAt(enterBar);
  const stillSafe = safeAt(stayBar);
  const sized = (v: PoolView) => sizeRule(v);
  const candidates = views.filter((v) => sized(v) && safe(v)).sort((a, b) => a.forecast.price - b.forecast.price || a.forecast.volatility - b.forecast.volatility || (a.key < b.key ? -1 : 1));
  const best = candidates[0];

  // Gains are measured against one reference: the home region's on-demand price of the cheapest fitting type.
  const homeOd = views.filter((v) => v.region === pp.homeRegion && sized(v)).map((v) => v.onDemandHourUsd);
  const refOd = homeOd.length ? Math.min(...homeOd) : Math.min(...views.map((v) => v.onDemandHourUsd), Infinity);
  const toDesired = (v: PoolView, market: "spot" | "on-demand"): DesiredPool => ({ provider: v.provider, region: v.region, zone: v.zone, instanceType: v.instanceType, vcpu: v.vcpu, ramGb: v.ramGb, market, hourUsd: market === "spot" ? v.forecast.price : v.onDemandHourUsd, since: iso(atMs) });
  const describe = (v: PoolView) => `${v.instanceType} in ${v.region}${v.zone ? `/${v.zone}` : ""} at $${round(v.forecast.price, 5)}/h predicted (${v.forecast.method}, discount ${pct(discount(v))}, volatility ${round(v.forecast.volatility, 3)})`;

  if (!cur) {
    if (best) d("switch", `no pool instance yet: place it on the cheapest safe pool, ${describe(best)}`, toDesired(best, "spot"));
    else d("blocked", `no pool instance yet and no safe spot pool (${views.length} pools seen, ${views.filter(sized).length} of the right size; safe needs discount >= ${pp.baselineDiscountPct + pp.discountMarginPct}% and volatility <= ${pp.maxVolatility})`, null);
    return { desired: decisions[0]!.kind === "switch" ? toDesired(best!, "spot") : null, decisions, usage };
  }

  const curView = views.find((v) => v.key === poolKey(cur));
  const interrupted = args.signals.actual.pool?.interruption === "interruption" || args.signals.actual.pool?.state === "terminated" || args.signals.actual.pool?.state === "missing";
  const cooling = atMs - Date.parse(cur.since) < pp.cooldownMinutes * 60_000;

  if (cur.market === "on-demand") {
    if (best) d("switch", `on-demand fallback and a safe spot pool exists again: back to spot, ${describe(best)}`, toDesired(best, "spot"));
    else d("keep", `on-demand fallback: still no safe spot pool`, cur);
    return { desired: decisions[0]!.kind === "switch" ? toDesired(best!, "spot") : cur, decisions, usage };
  }

  const curBad = !curView || !stillSafe(curView) || !sized(curView) || interrupted;
  // A reclaim warning says the current pool has no spot capacity now: its replacement goes to another
  // pool (or on demand). An instance already gone (terminated, missing) may be restored where it was.
  const warned = args.signals.actual.pool?.interruption === "interruption";
  const target = warned ? candidates.find((v) => v.key !== poolKey(cur)) : best;
  const why = !curView
    ? "no price for the current pool"
    : interrupted
      ? warned
        ? "the instance is being interrupted (interruption)"
        : `the instance is gone (${args.signals.actual.pool?.state})`
      : !sized(curView)
        ? `usage is ${usage}-provisioned: the instance needs ${usage === "under" ? "more" : "different"} resources`
        : !stillSafe(curView)
          ? `current pool turned unsafe (discount below ${pp.baselineDiscountPct}% or volatility above ${pp.maxVolatility}): ${describe(curView)}`
          : "";

  if (curBad) {
    if (target) {
      const move = target.key === poolKey(cur) ? "restore it on its pool," : "switch to";
      d("switch", `${why}: ${move} ${describe(target)}`, toDesired(target, "spot"));
      return { desired: toDesired(target, "spot"), decisions, usage };
    }
    if (usage === "under" || interrupted || !curView) {
      const od = views.filter(sized).sort((a, b) => a.onDemandHourUsd - b.onDemandHourUsd || (a.key < b.key ? -1 : 1))[0];
      if (od) {
        d("fallback", `${why}, and no safe spot pool: fall back to on-demand ${od.instanceType} in ${od.region} at $${round(od.onDemandHourUsd, 5)}/h`, toDesired(od, "on-demand"));
        return { desired: toDesired(od, "on-demand"), decisions, usage };
      }
      d("blocked", `${why}, no safe spot pool and no on-demand price of the right size`, cur);
      return { desired: cur, decisions, usage };
    }
    d("keep", `${why}, but no safe spot pool to move to and the instance is not under-provisioned: stay`, cur);
    return { desired: cur, decisions, usage };
  }

  // The current pool is fine: switch only for a clear gain, after the cooldown.
  const gainPts = best && refOd > 0 ? ((curView.forecast.price - best.forecast.price) / refOd) * 100 : 0;
  const riskGain = best ? curView.forecast.volatility - best.forecast.volatility : 0;
  if (best && best.key !== curView.key && (gainPts >= pp.minFutureDiscountGainPct || (riskGain >= pp.minRiskImprovement && best.forecast.price <= curView.forecast.price))) {
    if (cooling) {
      d("keep", `a better pool exists (${round(gainPts, 2)} points) but the last move was at ${cur.since}, inside the ${pp.cooldownMinutes} min cooldown`, cur);
      return { desired: cur, decisions, usage };
    }
    d("switch", `predicted gain ${round(gainPts, 2)} points (>= ${pp.minFutureDiscountGainPct}) or risk ${round(riskGain, 3)} lower: switch from ${describe(curView)} to ${describe(best)}`, toDesired(best, "spot"));
    return { desired: toDesired(best, "spot"), decisions, usage };
  }
  d("noop", `stay: ${describe(curView)}; best alternative gains ${round(gainPts, 2)} points (< ${pp.minFutureDiscountGainPct})`, cur);
  return { desired: cur, decisions, usage };
}
