/** Time arithmetic for decide: all from a clock value passed in, never the system clock. */
export const HOUR_MS = 3_600_000;

export function hoursLeftInUtcDay(atMs: number): number {
  const d = new Date(atMs);
  const nextMidnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  return (nextMidnight - atMs) / HOUR_MS;
}

export function startOfUtcDay(atMs: number): number {
  const d = new Date(atMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

/** 2026-11-22T21:30:00.000Z -> 20261122t2130 (valid inside GCE names and labels). */
export function compactStamp(atMs: number): string {
  return new Date(atMs).toISOString().slice(0, 16).replace(/[-:]/g, "").toLowerCase();
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function round(n: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
