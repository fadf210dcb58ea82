import type { Pair, StandbyObserved } from "../model";
import type { VastInstance } from "../vast/client";

/** The Vast label of a pair's GPU (the provider sets it; the reader and the sweep find GPUs by it). */
export function pairLabel(pairId: string): string {
  return `fleet-pair-${pairId}`;
}
export function pairIdOfLabel(label: string | null): string | null {
  const m = /^fleet-pair-([a-z][a-z0-9-]{0,30})$/.exec(label ?? "");
  return m ? m[1]! : null;
}

/** The newest instance of a pair that is up, else its newest instance. */
export function instanceOfPair(pairId: string, instances: readonly VastInstance[]): VastInstance | undefined {
  const mine = instances.filter((i) => i.label === pairLabel(pairId)).sort((a, b) => b.id - a.id);
  return mine.find((i) => ALIVE.has(i.status ?? "created")) ?? mine[0];
}

/** Vast statuses of a GPU that is up or on its way up. */
const ALIVE = new Set(["running", "loading", "created", "scheduling"]);

/**
 * Each desired pair's GPU as Vast shows it (pure): alive -> running; stopped, exited, offline or
 * vanished -> lost; a pair the user asked to destroy (journal) -> destroyed. A pair without a GPU
 * (gpu-lost, nothing rented yet) reads as lost, which decide keeps as it is.
 */
export function observePairs(pairs: readonly Pair[], instances: readonly VastInstance[], destroyRequested: ReadonlySet<string>, idleSince: ReadonlyMap<string, string> = new Map()): StandbyObserved[] {
  return pairs.map((pair) => {
    const inst = instanceOfPair(pair.pairId, instances);
    const instanceId = inst ? String(inst.id) : "none";
    const state = destroyRequested.has(pair.pairId) ? "destroyed" : inst && ALIVE.has(inst.status ?? "created") ? "running" : "lost";
    return { pairId: pair.pairId, gpu: { instanceId, state, idleSince: state === "running" ? (idleSince.get(pair.pairId) ?? null) : null }, standby: { name: `pair-${pair.pairId}-standby` } };
  });
}
