import type { Decision, DesiredStandby, Pair, Signals, StandbyPolicy, VastOffer } from "../model";
import { continentOf } from "../standby/geo";
import { sameGpuName } from "../vast/client";
import { iso, round } from "./time";

/** Cheapest offer meeting the GPU requirements (deterministic tie-break by id). */
export function chooseOffer(offers: readonly VastOffer[], r: StandbyPolicy["gpu"]): VastOffer | undefined {
  return offers
    .filter((o) => (!r.gpuName || sameGpuName(o.gpuName, r.gpuName)) && o.gpuRamGb >= r.gpuRamMinGb && o.dphUsd <= r.maxDphUsd && o.reliability >= r.reliabilityMin && o.diskGb >= r.diskGb)
    .sort((a, b) => a.dphUsd - b.dphUsd || a.id - b.id)[0];
}

/** How long before an idle GPU is destroyed the warning comes. */
export const IDLE_WARNING_MINUTES = 5;

/** How long a restoring pair may show no running GPU before it counts as gpu-lost again. */
export const RESTORE_GRACE_MS = 30 * 60_000;

/**
 * The summed $/hour these pairs rent on Vast.ai: each GPU (a gpu-lost pair rents none) and each Vast
 * standby (kept, and billed, while its GPU is lost).
 */
export function vastDphUsd(pairs: readonly Pair[]): number {
  return pairs.reduce((a, p) => a + (p.state !== "gpu-lost" && p.gpu ? p.gpu.dphUsd : 0) + (p.standby.target === "vast" ? p.standby.dphUsd : 0), 0);
}

/** The pairs as they rent while `pairId` has no GPU (restoring it): its Vast standby still bills. */
export function withoutGpuOf(pairs: readonly Pair[], pairId: string): Pair[] {
  return pairs.map((p) => (p.pairId === pairId ? { ...p, state: "gpu-lost" as const } : p));
}

/**
 * The host for a Vast standby (pure): the cheapest offer meeting the requirements, on the GPU's
 * continent when one there does (the copy crosses no ocean every 30 s), else the cheapest anywhere.
 */
export function chooseStandbyOffer(offers: readonly VastOffer[], r: StandbyPolicy["vastStandby"], diskGb: number, gpuGeolocation: string): { offer: VastOffer; sameContinent: boolean } | undefined {
  const fit = offers
    .filter((o) => o.cpuCores >= r.cpuCoresMin && o.ramGb >= r.ramGbMin && o.diskGb >= diskGb && o.dphUsd <= r.maxDphUsd && o.reliability >= r.reliabilityMin && (!r.cpuOnly || o.numGpus === 0))
    .sort((a, b) => a.dphUsd - b.dphUsd || a.id - b.id);
  const continent = continentOf(gpuGeolocation);
  const near = continent ? fit.find((o) => continentOf(o.geolocation) === continent) : undefined;
  if (near) return { offer: near, sameContinent: true };
  return fit[0] ? { offer: fit[0], sameContinent: false } : undefined;
}

/**
 * The standby decision (pure), per pair, from each GPU's observed state:
 * - running: keep the pair (a pair that was gpu-lost and has its GPU back is running again);
 * - lost (vanished, stopped or failing, not asked for by the user): keep the standby and its disk,
 *   mark the pair gpu-lost, and with autoRestore choose the cheapest offer meeting the requirements;
 * - destroyed by the user: remove both.
 * Unknown (Vast unreadable): nothing changes.
 */
export function decideStandby(args: { previous: DesiredStandby; signals: Pick<Signals, "actual" | "offers">; policy: StandbyPolicy; atMs: number }): { desired: DesiredStandby; decisions: Decision[] } {
  const decisions: Decision[] = [];
  const d = (kind: Decision["kind"], reason: string, from: unknown, to: unknown) => decisions.push({ area: "standby", kind, reason, from, to });
  const observed = args.signals.actual.standby;
  if (observed === null) {
    if (args.previous.pairs.length) d("noop", "Vast.ai could not be read: every pair is kept as it is", null, null);
    return { desired: args.previous, decisions };
  }
  const byPair = new Map(observed.map((o) => [o.pairId, o]));
  const pairs: Pair[] = [];
  for (const pair of args.previous.pairs) {
    const seen = byPair.get(pair.pairId);
    if (!seen) {
      pairs.push(pair);
      continue;
    }
    if (seen.gpu.state === "destroyed") {
      d("destroy", `pair ${pair.pairId}: GPU ${seen.gpu.instanceId} was destroyed by the user: remove its standby ${seen.standby.name} too`, pair.pairId, null);
      continue;
    }
    // A Vast standby holds the only copy: say so when it is stopped (the apply starts it again, its
    // disk kept) or gone (the copy with it; nothing here can bring it back).
    if (seen.standby.state === "down") d("keep", `warning: pair ${pair.pairId}: its Vast standby (${seen.standby.name}) is stopped: the next apply starts it again; its disk was kept`, "down", "up");
    if (seen.standby.state === "gone") d("keep", `warning: pair ${pair.pairId}: its Vast standby is gone, and the copy of the GPU's work with it; remove the pair (fleet gpu destroy --pair ${pair.pairId}) and boot a new one`, "gone", "gone");
    if (seen.gpu.state === "running" && pair.state === "running" && args.policy.autoDestroyAfterIdleMinutes !== null && seen.gpu.idleSince) {
      const limit = args.policy.autoDestroyAfterIdleMinutes;
      const idleMin = (args.atMs - Date.parse(seen.gpu.idleSince)) / 60_000;
      if (idleMin >= limit) {
        d("destroy", `pair ${pair.pairId}: GPU ${seen.gpu.instanceId} idle ${round(idleMin, 1)} min >= autoDestroyAfterIdleMinutes ${limit}: destroy the GPU; standby ${seen.standby.name} and its data stay (restore with fleet gpu restore)`, "running", "gpu-lost");
        pairs.push({ ...pair, state: "gpu-lost", since: iso(args.atMs) });
        continue;
      }
      if (idleMin >= limit - IDLE_WARNING_MINUTES) d("keep", `warning: pair ${pair.pairId}: GPU ${seen.gpu.instanceId} idle ${round(idleMin, 1)} min; it will be destroyed at ${limit} min unless it gets work (the standby keeps the data)`, "running", "running");
    }
    if (seen.gpu.state === "running") {
      if (pair.state !== "running") {
        d("keep", `pair ${pair.pairId}: GPU ${seen.gpu.instanceId} is running${pair.state === "restoring" ? " with the standby's copy restored" : " again"}: pair running`, pair.state, "running");
        pairs.push({ ...pair, state: "running", since: iso(args.atMs) });
      } else pairs.push(pair);
      continue;
    }
    // lost: the standby and its disk stay, whatever else happens. A pair still restoring is left to
    // its apply (the new GPU may not be up yet); lost again after that, it is gpu-lost.
    if (pair.state === "restoring" && args.atMs - Date.parse(pair.since) < RESTORE_GRACE_MS) {
      pairs.push(pair);
      continue;
    }
    let next: Pair = pair.state === "gpu-lost" ? pair : { ...pair, state: "gpu-lost", since: iso(args.atMs) };
    if (pair.state !== "gpu-lost") d("keep", `pair ${pair.pairId}: GPU ${seen.gpu.instanceId} ${pair.state === "restoring" ? `not running ${RESTORE_GRACE_MS / 60_000} min after the restore began` : "lost (not asked for by the user)"}: keep standby ${seen.standby.name} and its disk; pair gpu-lost`, pair.state, "gpu-lost");
    if (args.policy.autoRestore) {
      const offer = chooseOffer(args.signals.offers, args.policy.gpu);
      const others = vastDphUsd(withoutGpuOf(args.previous.pairs, pair.pairId));
      if (offer && offer.id !== pair.gpu?.offerId && others + offer.dphUsd > args.policy.maxTotalDphUsd) {
        d("blocked", `pair ${pair.pairId}: auto-restore onto offer ${offer.id} ($${round(offer.dphUsd, 4)}/h) would bring what the pairs rent on Vast.ai to $${round(others + offer.dphUsd, 4)}/h, above standby.maxTotalDphUsd $${args.policy.maxTotalDphUsd}/h`, null, offer.id);
      } else if (offer && offer.id !== pair.gpu?.offerId) {
        // restoring: the stack boots the GPU and pulls the standby's copy onto it before the sync starts.
        d("switch", `pair ${pair.pairId}: auto-restore onto offer ${offer.id} (${offer.gpuName}, $${round(offer.dphUsd, 4)}/h, ${offer.geolocation})`, pair.gpu?.offerId ?? null, offer.id);
        next = { ...next, state: "restoring", gpu: { offerId: offer.id, gpuName: offer.gpuName, dphUsd: offer.dphUsd, geolocation: offer.geolocation } };
      } else if (!offer) d("blocked", `pair ${pair.pairId}: auto-restore found no offer meeting the requirements (${args.signals.offers.length} offers seen)`, null, null);
    }
    pairs.push(next);
  }
  if (!decisions.length) d("noop", `${pairs.length} pair(s) as desired`, pairs.length, pairs.length);
  return { desired: { pairs }, decisions };
}
