import type { Area } from "./model";
import type { VmLifetime } from "./journal";
import { HOUR_MS, startOfUtcDay } from "./decide/time";

/** Spend of the lifetimes inside [fromMs, toMs): hourly price x overlapping hours. Pure. */
export function spendUsd(lifetimes: readonly VmLifetime[], fromMs: number, toMs: number, area?: Area): number {
  let total = 0;
  for (const l of lifetimes) {
    if (area && l.area !== area) continue;
    const start = Math.max(fromMs, Date.parse(l.startedAt));
    const end = Math.min(toMs, l.endedAt ? Date.parse(l.endedAt) : toMs);
    if (end > start) total += (l.hourUsd * (end - start)) / HOUR_MS;
  }
  return total;
}

export interface DaySpend {
  day: string;
  byArea: Partial<Record<Area, number>>;
  totalUsd: number;
}

/** Spend per UTC day (newest first) for the `days` days ending with the clock's day. */
export function spendByDay(lifetimes: readonly VmLifetime[], atMs: number, days: number): DaySpend[] {
  const out: DaySpend[] = [];
  const today = startOfUtcDay(atMs);
  for (let i = 0; i < days; i++) {
    const from = today - i * 24 * HOUR_MS;
    const to = Math.min(atMs, from + 24 * HOUR_MS);
    const byArea: Partial<Record<Area, number>> = {};
    let totalUsd = 0;
    for (const l of lifetimes) {
      const s = spendUsd([l], from, to);
      if (s > 0) {
        byArea[l.area] = (byArea[l.area] ?? 0) + s;
        totalUsd += s;
      }
    }
    out.push({ day: new Date(from).toISOString().slice(0, 10), byArea, totalUsd });
  }
  return out;
}
