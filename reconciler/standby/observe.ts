import type { Pair, StandbyObserved } from "../model";
import type { VastInstance } from "../vast/client";

/** The Vast label of a pair's GPU (the provider sets it; the reader and the sweep find GPUs by it). */
export function pairLabel(pairId: string): string {
  return `fleet-pair-${pairId}`;
}
/** The Vast label of a pair's standby when it is a Vast instance (standby.target vast). */
export function standbyLabel(pairId: string): string {
  return `fleet-standby-${pairId}`;
}
/** The pair and role a fleet Vast label names, or null for an instance that is not fleet's. */
export function parseVastLabel(label: string | null): { pairId: string; role: "gpu" | "standby" } | null {
  const m = /^fleet-(pair|standby)-([a-z][a-z0-9-]{0,30})$/.exec(label ?? "");
  return m ? { pairId: m[2]!, role: m[1] === "pair" ? "gpu" : "standby" } : null;
}
/** The pair whose GPU carries this label (a standby's label is not a GPU's). */
export function pairIdOfLabel(label: string | null): string | null {
  const parsed = parseVastLabel(label);
  return parsed?.role === "gpu" ? parsed.pairId : null;
}

/** The newest instance of a pair's GPU (or of its Vast standby) that is up, else its newest instance. */
export function instanceOfPair(pairId: string, instances: readonly VastInstance[], role: "gpu" | "standby" = "gpu"): VastInstance | undefined {
  const label = role === "gpu" ? pairLabel(pairId) : standbyLabel(pairId);
  const mine = instances.filter((i) => i.label === label).sort((a, b) => b.id - a.id);
  return mine.find((i) => ALIVE.has(i.status ?? "created")) ?? mine[0];
}

/** Vast statuses of a GPU that is up or on its way up. */
const ALIVE = new Set(["running", "loading", "created", "scheduling"]);

/**
 * Each desired pair's GPU as Vast shows it (pure): alive -> running; stopped, exited, offline or
 * vanished -> lost; a pair the user asked to destroy (journal) -> destroyed. A pair without a GPU
 * (gpu-lost, nothing rented yet) reads as lost, which decide keeps as it is. A Vast standby is up,
 * down (stopped, offline) or gone; a GCP standby is not read here (unknown).
 */
export function observePairs(pairs: readonly Pair[], instances: readonly VastInstance[], destroyRequested: ReadonlySet<string>, idleSince: ReadonlyMap<string, string> = new Map()): StandbyObserved[] {
  return pairs.map((pair) => {
    const inst = instanceOfPair(pair.pairId, instances);
    const instanceId = inst ? String(inst.id) : "none";
    const state = destroyRequested.has(pair.pairId) ? "destroyed" : inst && ALIVE.has(inst.status ?? "created") ? "running" : "lost";
    const standby = pair.standby.target === "vast" ? instanceOfPair(pair.pairId, instances, "standby") : undefined;
    const standbyState = pair.standby.target !== "vast" ? "unknown" : !standby ? "gone" : ALIVE.has(standby.status ?? "created") ? "up" : "down";
    const name = standby ? `Vast instance ${standby.id}` : `pair-${pair.pairId}-standby`;
    return { pairId: pair.pairId, gpu: { instanceId, state, idleSince: state === "running" ? (idleSince.get(pair.pairId) ?? null) : null }, standby: { name, state: standbyState } };
  });
}
