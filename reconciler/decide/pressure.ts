import type { PressureSample, PressureThresholds } from "../model";

export type PressureLevel = "normal" | "high" | "critical";

export interface PressureReading {
  level: PressureLevel;
  /** Consecutive samples at or above highPct, ending with the newest. */
  highRun: number;
  latest: PressureSample | undefined;
  /** Samples considered (those at or before the clock). */
  used: number;
}

/**
 * The pressure level after a sequence of samples (oldest first), with hysteresis:
 * - critical: a sample at or above criticalPct, or swap at or above swapCriticalPct;
 * - high: highSamples consecutive samples at or above highPct;
 * - normal again only below normalBelowPct; between normalBelowPct and highPct the level holds
 *   (critical eases to high).
 * Pure: a fold over the samples; the caller passes samples already filtered to the clock.
 */
export function pressureLevel(samples: readonly PressureSample[], t: PressureThresholds): PressureReading {
  let level: PressureLevel = "normal";
  let highRun = 0;
  for (const s of samples) {
    const critical = s.memUsedPct >= t.criticalPct || s.swapUsedPct >= t.swapCriticalPct;
    highRun = s.memUsedPct >= t.highPct || critical ? highRun + 1 : 0;
    if (critical) level = "critical";
    else if (highRun >= t.highSamples) level = "high";
    else if (s.memUsedPct < t.normalBelowPct) level = "normal";
    else if (level === "critical") level = "high";
  }
  return { level, highRun, latest: samples[samples.length - 1], used: samples.length };
}

/** Samples at or before `atMs`, oldest first (never looks ahead of the clock). */
export function samplesUpTo(samples: readonly PressureSample[], atMs: number): PressureSample[] {
  return samples
    .map((s) => ({ s, t: Date.parse(s.at) }))
    .filter((x) => x.t <= atMs)
    .sort((a, b) => a.t - b.t)
    .map((x) => x.s);
}
