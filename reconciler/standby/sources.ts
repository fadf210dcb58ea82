import type { ActualFleetInput, DesiredStandby, StandbyPolicy, VastOffer } from "../model";
import type { Journal } from "../journal";
import type { FleetReader } from "../signals/types";
import { VastClient } from "../vast/client";
import { observePairs } from "./observe";

/** The journal event `fleet gpu destroy` records before it applies (a failed apply is finished by the next cycle). */
export const GPU_DESTROY_EVENT = "gpu-destroy-requested";

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
    private readonly args: { standby: DesiredStandby; vast: VastClient | null; journal: Journal; stack: string; onError?: (err: unknown) => void },
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
      return { ...base, standby: observePairs(standby.pairs, await vast.showInstances(), destroyRequests(journal, stack, standby)) };
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
