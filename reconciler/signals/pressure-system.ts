import si from "systeminformation";
import type { PressureSample } from "../model";
import type { Journal } from "../journal";
import type { PressureSource } from "./types";

export interface MemReading {
  total: number;
  available: number;
  swaptotal: number;
  swapused: number;
}

/** Memory in use excluding page cache and buffers (total - available), and swap in use, as percentages. */
export function toSample(at: string, m: MemReading): PressureSample {
  const pct = (n: number, d: number) => (d > 0 ? Math.min(100, Math.max(0, (n / d) * 100)) : 0);
  return { at, memUsedPct: pct(m.total - m.available, m.total), swapUsedPct: pct(m.swapused, m.swaptotal) };
}

/**
 * This machine's memory pressure via `systeminformation`, sampled `count` times `intervalMs` apart.
 * With a journal, new samples are recorded and the recent history is returned with them, so the
 * consecutive-sample rule and the hysteresis hold across scheduled runs.
 */
export class SystemPressureSource implements PressureSource {
  constructor(
    private readonly opts: { count: number; intervalMs: number; historyMs: number; journal?: Journal; read?: () => Promise<MemReading>; now?: () => number },
  ) {}

  async samples(_atMs: number): Promise<PressureSample[]> {
    const read = this.opts.read ?? (() => si.mem());
    const now = this.opts.now ?? Date.now;
    const fresh: PressureSample[] = [];
    for (let i = 0; i < this.opts.count; i++) {
      if (i > 0 && this.opts.intervalMs > 0) await new Promise((r) => setTimeout(r, this.opts.intervalMs));
      fresh.push(toSample(new Date(now()).toISOString(), await read()));
    }
    if (!this.opts.journal) return fresh;
    const since = new Date(Date.parse(fresh[0]!.at) - this.opts.historyMs).toISOString();
    const history = this.opts.journal.pressureSamplesSince(since).filter((s) => s.at < fresh[0]!.at);
    return [...history, ...fresh];
  }
}
