import { SignalsSchema, type Signals, type VastOffer } from "../model";
import { InputError } from "../errors";
import { problemsFromZod } from "../config/issues";
import type { BudgetSource, FleetReader, PressureSource, PriceSource } from "./types";
import type { QueueSource } from "./hpc-sources";
import type { PoolObservation } from "./pool-live";

export interface LiveSources {
  pressure: PressureSource;
  prices: PriceSource;
  budget: BudgetSource;
  fleet: FleetReader;
  /** The hpc scheduler's queue; absent when no queue command is configured. */
  queue?: QueueSource;
  /** The pool instance's state and usage (AWS: EC2, SQS, CloudWatch); absent when there is none to read. */
  pool?: () => Promise<PoolObservation>;
  /** Vast.ai offers for auto-restore; absent or empty when none are needed. */
  offers?: () => Promise<VastOffer[]>;
}

/**
 * Reads every live source for one clock value and validates the result with the same schema as a
 * signals file. A budget source that fails yields `budget: null` so decide fails closed; a failing
 * pressure source yields no samples (also closed). Prices and the fleet must be read.
 */
export async function gatherSignals(sources: LiveSources, clock: () => number, onSourceError: (source: string, err: unknown) => void = () => {}): Promise<Signals> {
  // Pressure is sampled over a short interval; the clock is read after it so no sample lies ahead of it.
  const samples = await sources.pressure.samples(clock()).catch((e) => (onSourceError("pressure", e), []));
  const atMs = clock();
  const [prices, spent, actual, pendingJobs, offers, pool] = await Promise.all([
    sources.prices.prices(),
    sources.budget.spentTodayUsd(atMs).then((n) => n as number | null).catch((e) => (onSourceError("budget", e), null)),
    sources.fleet.actual(),
    sources.queue ? sources.queue.pendingJobs() : Promise.resolve(null),
    sources.offers ? sources.offers() : Promise.resolve([]),
    // Unreadable: unknown (null), so decide neither switches nor falls back on a guess.
    sources.pool ? sources.pool().catch((e) => (onSourceError("pool", e), { actual: null, usage: null })) : Promise.resolve({ actual: null, usage: null }),
  ]);
  const raw = { at: new Date(atMs).toISOString(), pressure: { samples }, prices, budget: spent === null ? null : { spentTodayUsd: spent }, actual: { ...actual, pool: pool.actual }, usage: pool.usage, queue: pendingJobs === null ? null : { pendingJobs }, offers };
  const parsed = SignalsSchema.safeParse(raw);
  if (!parsed.success) throw new InputError("live signals", problemsFromZod("signals", parsed.error));
  return parsed.data;
}
