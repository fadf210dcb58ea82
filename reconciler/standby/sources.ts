import type { ActualFleetInput, DesiredStandby, StandbyPolicy, VastOffer } from "../model";
import type { Journal } from "../journal";
import type { FleetReader } from "../signals/types";
import { VastClient, type VastInstance } from "../vast/client";
import { instanceOfPair, observePairs } from "./observe";

/** The journal event `fleet gpu destroy` records before it applies (a failed apply is finished by the next cycle). */
export const GPU_DESTROY_EVENT = "gpu-destroy-requested";
/** Journal events marking when a pair's GPU went idle or busy again (idle time spans cycles). */
export const GPU_ACTIVITY_EVENT = "gpu-activity";

/**
 * Since when each running pair's GPU has been idle (utilisation below `idleBelowPct`), carried across
 * cycles in the journal: a change between idle and busy is recorded; unknown utilisation changes nothing.
 */
export function trackIdle(journal: Journal, stack: string, pairs: DesiredStandby["pairs"], instances: readonly VastInstance[], idleBelowPct: number, nowIso: string): Map<string, string> {
  const events = journal.events(stack, { kind: GPU_ACTIVITY_EVENT, limit: 500 });
  const out = new Map<string, string>();
  for (const pair of pairs) {
    const inst = instanceOfPair(pair.pairId, instances);
    const last = events.find((e) => (e.detail as { pairId?: string } | null)?.pairId === pair.pairId && e.at >= pair.since);
    const lastIdle = last ? (last.detail as { idle: boolean; since: string }) : null;
    const util = inst?.status === "running" ? inst.gpuUtilPct : null;
    if (util === null) {
      if (lastIdle?.idle) out.set(pair.pairId, lastIdle.since);
      continue;
    }
    const idle = util < idleBelowPct;
    if (idle && lastIdle?.idle) out.set(pair.pairId, lastIdle.since);
    else if (idle) {
      journal.recordEvent({ at: nowIso, stack, area: "standby", kind: GPU_ACTIVITY_EVENT, detail: { pairId: pair.pairId, idle: true, since: nowIso, gpuUtilPct: util } });
      out.set(pair.pairId, nowIso);
    } else if (lastIdle?.idle) journal.recordEvent({ at: nowIso, stack, area: "standby", kind: GPU_ACTIVITY_EVENT, detail: { pairId: pair.pairId, idle: false, since: nowIso, gpuUtilPct: util } });
  }
  return out;
}

/** Pairs whose destroy the user asked for after the pair came to be (an older request for a reused id does not count). */
export function destroyRequests(journal: Journal, stack: string, standby: DesiredStandby): Set<string> {
  const events = journal.events(stack, { kind: GPU_DESTROY_EVENT, limit: 200 });
  const out = new Set<string>();
  for (const p of standby.pairs) {
    if (events.some((e) => (e.detail as { pairId?: string } | null)?.pairId === p.pairId && e.at >= p.since)) out.add(p.pairId);
  }
  return out;
}

/** A Vast client from VAST_API_KEY, or null when no key is set. */
export function vastFromEnv(env: NodeJS.ProcessEnv = process.env): VastClient | null {
  return env.VAST_API_KEY ? new VastClient({ apiKey: env.VAST_API_KEY, baseUrl: env.VAST_API_URL }) : null;
}

/**
 * Adds the standby area to another reader: each desired pair's GPU as Vast shows it. With no pairs
 * there is nothing to read (`[]`); with pairs but no key or no answer, `standby: null` (unknown), so
 * decide changes nothing rather than guess that a GPU was lost.
 */
export class FleetWithStandbyReader implements FleetReader {
  constructor(
    private readonly inner: FleetReader,
    private readonly args: { standby: DesiredStandby; vast: VastClient | null; journal: Journal; stack: string; onError?: (err: unknown) => void; idleBelowPct?: number; now?: () => number },
  ) {}
  async actual(): Promise<ActualFleetInput> {
    const base = await this.inner.actual();
    const { standby, vast, journal, stack } = this.args;
    if (!standby.pairs.length) return { ...base, standby: [] };
    if (!vast) {
      this.args.onError?.(new Error("VAST_API_KEY is not set: the standby pairs cannot be observed"));
      return { ...base, standby: null };
    }
    try {
      const instances = await vast.showInstances();
      const idle = trackIdle(journal, stack, standby.pairs, instances, this.args.idleBelowPct ?? 5, new Date((this.args.now ?? Date.now)()).toISOString());
      return { ...base, standby: observePairs(standby.pairs, instances, destroyRequests(journal, stack, standby), idle) };
    } catch (e) {
      this.args.onError?.(e);
      return { ...base, standby: null };
    }
  }
}

/** Offers for auto-restore: searched only when a pair is gpu-lost and policy allows auto-restore. */
export async function offersForRestore(vast: VastClient | null, standby: DesiredStandby, policy: StandbyPolicy, onError: (err: unknown) => void = () => {}): Promise<VastOffer[]> {
  if (!vast || !policy.autoRestore || !standby.pairs.some((p) => p.state === "gpu-lost")) return [];
  try {
    return await vast.searchOffers({ ...policy.gpu, limit: 64 });
  } catch (e) {
    onError(e); // no offers: decide blocks the restore and says so
    return [];
  }
}
