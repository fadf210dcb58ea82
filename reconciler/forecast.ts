/**
 * Price forecast per pool (pure; the clock is passed in).
 *
 * Spot prices move in steps, so the last value ("naive") is a strong baseline. Two other methods
 * cover the patterns spot prices do show:
 * - revert (half-life 1 h, 6 h or 24 h): after a spike the price tends back to its recent level: the
 *   forecast moves from the last value toward the median of the recent history;
 * - daily: a daily cycle: the value one day before the target time, shifted by how far the last value
 *   is from the value one day before now (seasonal naive with level adjustment).
 * Each forecast picks, per pool, the method with the lowest error on a rolling evaluation over the
 * pool's own recent history (predictions made only from data before each point: no look-ahead). A
 * method other than naive is picked only when naive was wrong on most of those points (a pattern,
 * not a lone price step) and the method beat it by a clear margin on both halves of the window, so
 * the forecast does not lose to naive by chasing steps.
 * Volatility: the standard deviation of relative price changes over the recent history.
 */

export interface Point {
  t: number;
  price: number;
}
export type Method = "naive" | "revert1h" | "revert6h" | "revert24h" | "daily";
const REVERT_HALF_LIFE_MS: Record<string, number> = { revert1h: 3_600_000, revert6h: 6 * 3_600_000, revert24h: 86_400_000 };
export interface Forecast {
  price: number;
  volatility: number;
  method: Method;
  /** How many history points the forecast saw. */
  points: number;
}

const DAY = 86_400_000;
const EVAL_POINTS = 24;
const MIN_EVAL_POINTS = 6;
/** A method must beat naive's recent error by this fraction to be used instead. */
const MARGIN = 0.2;

/** Index of the last point at or before t (series sorted by t), searching series[0..hi], or -1. */
export function indexAtOrBefore(series: readonly Point[], t: number, hi = series.length - 1): number {
  let lo = 0;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]!.t <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** Predicts the price at `end + horizon` from series[0..end] only. */
export function predict(series: readonly Point[], end: number, horizonMs: number, method: Method): number {
  const last = series[end]!;
  if (method === "naive" || end === 0) return last.price;
  const halfLife = REVERT_HALF_LIFE_MS[method];
  if (halfLife) {
    // Back toward the recent median (a spike does not move a median), the more so the further ahead.
    const w = 1 - Math.pow(0.5, horizonMs / halfLife);
    return last.price + (medianLevel(series, end) - last.price) * w;
  }
  const target = last.t + horizonMs;
  const dayBeforeTarget = indexAtOrBefore(series, target - DAY, end);
  const dayBeforeNow = indexAtOrBefore(series, last.t - DAY, end);
  if (dayBeforeTarget < 0 || dayBeforeNow < 0) return last.price;
  return Math.max(0, series[dayBeforeTarget]!.price + (last.price - series[dayBeforeNow]!.price));
}

/** Absolute percentage errors of `method` on the last `n` usable points of series[0..end] (newest first), each predicted from before it. */
export function recentErrors(series: readonly Point[], end: number, horizonMs: number, method: Method, n = EVAL_POINTS): number[] {
  const errors: number[] = [];
  for (let i = end; i > 0 && errors.length < n; i--) {
    const from = indexAtOrBefore(series, series[i]!.t - horizonMs);
    if (from < 0 || from >= i) continue;
    const actual = series[i]!.price;
    if (actual <= 0) continue;
    errors.push(Math.abs(predict(series, from, horizonMs, method) - actual) / actual);
  }
  return errors;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function volatility(series: readonly Point[], end: number, window = 24): number {
  const changes: number[] = [];
  for (let i = Math.max(1, end - window + 1); i <= end; i++) {
    const prev = series[i - 1]!.price;
    if (prev > 0) changes.push((series[i]!.price - prev) / prev);
  }
  if (changes.length < 2) return 0;
  const mean = changes.reduce((a, b) => a + b, 0) / changes.length;
  return Math.sqrt(changes.reduce((a, c) => a + (c - mean) ** 2, 0) / (changes.length - 1));
}

function medianLevel(series: readonly Point[], end: number, window = 48): number {
  const xs: number[] = [];
  for (let i = Math.max(0, end - window + 1); i <= end; i++) xs.push(series[i]!.price);
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
}

export function chooseMethod(series: readonly Point[], end: number, horizonMs: number): Method {
  const naive = recentErrors(series, end, horizonMs, "naive");
  // Step-shaped prices make naive wrong only at the steps; another method is worth it only when
  // naive has been wrong on most recent points (a cycle, a decay), never for a lone step.
  const missed = naive.filter((e) => e > 1e-9).length;
  if (naive.length < MIN_EVAL_POINTS || missed * 2 < naive.length) return "naive";
  const half = naive.length >> 1;
  let best: Method = "naive";
  let bestErr = mean(naive) * (1 - MARGIN);
  for (const m of ["revert1h", "revert6h", "revert24h", "daily"] as const) {
    const e = recentErrors(series, end, horizonMs, m);
    if (e.length !== naive.length) continue;
    // It must win clearly overall and on both halves of the window (a consistent pattern, not luck).
    const consistent = mean(e.slice(0, half)) < mean(naive.slice(0, half)) * (1 - MARGIN) && mean(e.slice(half)) < mean(naive.slice(half)) * (1 - MARGIN);
    if (consistent && mean(e) < bestErr) {
      best = m;
      bestErr = mean(e);
    }
  }
  return best;
}

/** The forecast of one pool at `atMs + horizonMs` from its history at or before `atMs`. */
export function forecast(series: readonly Point[], atMs: number, horizonMs: number): Forecast | undefined {
  const end = indexAtOrBefore(series, atMs);
  if (end < 0) return undefined;
  const method = chooseMethod(series, end, horizonMs);
  return { price: predict(series, end, horizonMs, method), volatility: volatility(series, end), method, points: end + 1 };
}

/**
 * Rolling evaluation without look-ahead: at every point, predict the price `horizonMs` later from the
 * data so far, and compare with the price actually in force then.
 */
export function rollingEvaluation(seriesByPool: ReadonlyMap<string, readonly Point[]>, horizonMs: number): { points: number; mapeModel: number; mapeNaive: number } {
  let points = 0;
  let model = 0;
  let naive = 0;
  for (const series of seriesByPool.values()) {
    const lastT = series[series.length - 1]?.t ?? 0;
    for (let i = 0; i < series.length; i++) {
      const target = series[i]!.t + horizonMs;
      if (target > lastT) break;
      const actual = series[indexAtOrBefore(series, target)]!.price;
      if (actual <= 0) continue;
      const m = chooseMethod(series, i, horizonMs);
      model += Math.abs(predict(series, i, horizonMs, m) - actual) / actual;
      naive += Math.abs(series[i]!.price - actual) / actual;
      points++;
    }
  }
  return { points, mapeModel: points ? (model / points) * 100 : 0, mapeNaive: points ? (naive / points) * 100 : 0 };
}
