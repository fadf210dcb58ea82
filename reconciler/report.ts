import type { StackConfig } from "./config/load";
import { spendByDay, spendUsd, type DaySpend } from "./costs";
import { startOfUtcDay } from "./decide/time";
import type { Journal } from "./journal";
import { AREAS, type Area } from "./model";

/**
 * Read-only views of the fleet from the stack's config and the journal, shared by `fleet status`,
 * `fleet costs` and the HTTP API. Nothing here touches a cloud.
 */

export interface SpendToday {
  /** Every area. */
  totalUsd: number;
  /** What the daily budget (burst.dailyBudgetUsd) is checked against. */
  burstUsd: number;
  dailyBudgetUsd: number;
  byArea: Partial<Record<Area, number>>;
}

export function spendToday(cfg: StackConfig, journal: Journal | null, nowMs: number): SpendToday {
  const from = startOfUtcDay(nowMs);
  const lifetimes = journal ? journal.lifetimesBetween(cfg.stack, new Date(from).toISOString(), new Date(nowMs).toISOString()) : [];
  const byArea: Partial<Record<Area, number>> = {};
  for (const a of AREAS) {
    const s = spendUsd(lifetimes, from, nowMs, a);
    if (s > 0) byArea[a] = round4(s);
  }
  return { totalUsd: round4(spendUsd(lifetimes, from, nowMs)), burstUsd: byArea.burst ?? 0, dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd, byArea };
}

export function costReport(cfg: StackConfig, journal: Journal | null, nowMs: number, days: number): { stack: string; dailyBudgetUsd: number; days: DaySpend[] } {
  const fromIso = new Date(startOfUtcDay(nowMs) - (days - 1) * 86_400_000).toISOString();
  const lifetimes = journal ? journal.lifetimesBetween(cfg.stack, fromIso, new Date(nowMs).toISOString()) : [];
  return { stack: cfg.stack, dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd, days: spendByDay(lifetimes, nowMs, days) };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Each area's mode and breaker state. */
export function areaModes(journal: Journal | null, stack: string): Record<Area, { mode: "auto" | "manual"; consecutiveFailures: number; reason: string | null }> {
  return Object.fromEntries(
    AREAS.map((a) => {
      const s = journal?.areaState(stack, a);
      return [a, { mode: s?.mode ?? "auto", consecutiveFailures: s?.consecutiveFailures ?? 0, reason: s?.reason ?? null }];
    }),
  ) as Record<Area, { mode: "auto" | "manual"; consecutiveFailures: number; reason: string | null }>;
}

/** Burst VMs running per the journal, with uptime and cost so far. */
export function burstVms(cfg: StackConfig, journal: Journal | null, nowMs: number) {
  return (journal?.openLifetimes(cfg.stack, "burst") ?? []).map((l) => ({
    name: l.name,
    zone: l.zone,
    machineType: l.machineType,
    hourUsd: l.hourUsd,
    startedAt: l.startedAt,
    uptimeS: Math.max(0, Math.round((nowMs - Date.parse(l.startedAt)) / 1000)),
    costUsd: round4(spendUsd([l], Date.parse(l.startedAt), nowMs)),
  }));
}

/** The pool's switches and fallbacks, newest first. */
export function poolSwitches(journal: Journal | null, stack: string, limit = 50) {
  return (journal?.decisions(stack, { area: "pool", limit: 500 }) ?? []).filter((d) => d.kind === "switch" || d.kind === "fallback").slice(0, limit);
}
