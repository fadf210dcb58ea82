import { BlockedError, InputError } from "../errors";
import { vastDphUsd, withoutGpuOf } from "../decide/standby";
import { round } from "../decide/time";
import type { DesiredStandby, Pair, StandbyPlace, StandbyPolicy, VastOffer } from "../model";
import { standbyRegionFor } from "./geo";

/**
 * The by-hand changes of the standby area (pure): boot a pair, restore one, mark it running, remove
 * it. Each checks the limits before anything is rented and returns the next desired standby; the
 * commands apply it through the apply pipeline.
 */

/** A pair id for an offer: `gpu-<offer>`, or `gpu-<offer>-<n>` when that is taken. */
export function newPairId(standby: DesiredStandby, offerId: number): string {
  const base = `gpu-${offerId}`;
  const taken = new Set(standby.pairs.map((p) => p.pairId));
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(id)) return id;
  }
}

/**
 * Limits every rental must pass: the GPU offer's own price, a Vast standby's own price, the number of
 * pairs, and the total $/hour rented on Vast.ai (`extraDphUsd`: what this change adds besides the GPU).
 */
function checkLimits(others: readonly Pair[], offer: VastOffer, policy: StandbyPolicy, countsAsNewPair: boolean, standbyOffer?: VastOffer): void {
  const refusals: string[] = [];
  if (offer.dphUsd > policy.gpu.maxDphUsd) refusals.push(`offer ${offer.id} costs $${round(offer.dphUsd, 4)}/h, above standby.gpu.maxDphUsd $${policy.gpu.maxDphUsd}/h`);
  if (standbyOffer && standbyOffer.dphUsd > policy.vastStandby.maxDphUsd) refusals.push(`standby offer ${standbyOffer.id} costs $${round(standbyOffer.dphUsd, 4)}/h, above standby.vastStandby.maxDphUsd $${policy.vastStandby.maxDphUsd}/h`);
  if (countsAsNewPair && others.length + 1 > policy.maxPairs) refusals.push(`${others.length} pair(s) exist and standby.maxPairs is ${policy.maxPairs}`);
  const total = vastDphUsd(others) + offer.dphUsd + (standbyOffer?.dphUsd ?? 0);
  if (total > policy.maxTotalDphUsd) refusals.push(`the pairs would rent $${round(total, 4)}/h on Vast.ai together, above standby.maxTotalDphUsd $${policy.maxTotalDphUsd}/h`);
  if (refusals.length) throw new BlockedError(`not renting offer ${offer.id}: ${refusals.join("; ")}. Nothing was changed.`);
}

/** Where a new pair's standby goes: a GCP region on the GPU's continent, or the Vast host chosen for it. */
function standbyPlace(offer: VastOffer, policy: StandbyPolicy, standbyOffer: VastOffer | undefined): StandbyPlace {
  if (policy.target === "gcp") return { target: "gcp", region: standbyRegionFor(offer.geolocation, policy.regionByContinent), machineType: policy.standbyMachineType, diskGb: policy.standbyDiskGb };
  if (!standbyOffer) throw new InputError("standby", [{ field: "standby.target", message: "is vast, but no Vast.ai host was chosen for the standby" }]);
  return { target: "vast", offerId: standbyOffer.id, dphUsd: standbyOffer.dphUsd, geolocation: standbyOffer.geolocation, diskGb: policy.standbyDiskGb };
}

/** One line on where a standby is. */
export function describeStandby(s: StandbyPlace): string {
  return s.target === "gcp" ? `GCP ${s.machineType} Spot in ${s.region}, ${s.diskGb} GB disk` : `Vast.ai offer ${s.offerId} ($${round(s.dphUsd, 4)}/h, ${s.geolocation || "unknown location"}), ${s.diskGb} GB disk`;
}

function gpuOf(offer: VastOffer): NonNullable<Pair["gpu"]> {
  return { offerId: offer.id, gpuName: offer.gpuName, dphUsd: offer.dphUsd, geolocation: offer.geolocation };
}

export function findPair(standby: DesiredStandby, pairId: string, field = "--pair"): Pair {
  const pair = standby.pairs.find((p) => p.pairId === pairId);
  if (!pair) throw new InputError("standby", [{ field, message: `no pair '${pairId}' in the applied fleet (pairs: ${standby.pairs.map((p) => p.pairId).join(", ") || "none"}); see \`fleet gpu status\`` }]);
  return pair;
}

/** A new pair on this offer, its standby on the GPU's continent (GCP) or on the Vast host given (target vast). */
export function bootPair(args: { standby: DesiredStandby; offer: VastOffer; policy: StandbyPolicy; atIso: string; pairId?: string; standbyOffer?: VastOffer }): { standby: DesiredStandby; pair: Pair } {
  const { standby, offer, policy } = args;
  const pairId = args.pairId ?? newPairId(standby, offer.id);
  if (standby.pairs.some((p) => p.pairId === pairId)) throw new InputError("fleet gpu boot", [{ field: "--pair", message: `pair '${pairId}' exists already` }]);
  if (standby.pairs.some((p) => p.state !== "gpu-lost" && p.gpu?.offerId === offer.id)) throw new InputError("fleet gpu boot", [{ field: "--offer", message: `offer ${offer.id} is already rented by a pair of this fleet` }]);
  if (args.standbyOffer && args.standbyOffer.id === offer.id) throw new InputError("fleet gpu boot", [{ field: "--offer", message: `offer ${offer.id} cannot be both the GPU and its standby` }]);
  const standbyOffer = policy.target === "vast" ? args.standbyOffer : undefined;
  checkLimits(standby.pairs, offer, policy, true, standbyOffer);
  const pair: Pair = {
    pairId,
    state: "running",
    gpu: gpuOf(offer),
    standby: standbyPlace(offer, policy, standbyOffer),
    since: args.atIso,
  };
  return { standby: { pairs: [...standby.pairs, pair] }, pair };
}

/**
 * A pair onto a new GPU: `restoring` until the apply has booted it and pulled the standby's copy onto
 * it; `markRunning` follows a successful apply. The standby (region, disk) stays as it is.
 */
export function restorePair(args: { standby: DesiredStandby; pairId: string; offer: VastOffer; policy: StandbyPolicy; atIso: string }): { standby: DesiredStandby; pair: Pair } {
  const pair = findPair(args.standby, args.pairId);
  if (pair.state === "running") throw new InputError("fleet gpu restore", [{ field: "--pair", message: `pair '${pair.pairId}' is running: its GPU is not lost (destroy it first to move the work)` }]);
  checkLimits(withoutGpuOf(args.standby.pairs, pair.pairId), args.offer, args.policy, false);
  const next: Pair = { ...pair, state: "restoring", gpu: gpuOf(args.offer), since: args.atIso };
  return { standby: { pairs: args.standby.pairs.map((p) => (p.pairId === pair.pairId ? next : p)) }, pair: next };
}

export function markRunning(standby: DesiredStandby, pairId: string, atIso: string): DesiredStandby {
  return { pairs: standby.pairs.map((p) => (p.pairId === pairId ? { ...p, state: "running" as const, since: atIso } : p)) };
}

export function removePair(standby: DesiredStandby, pairId: string): DesiredStandby {
  findPair(standby, pairId);
  return { pairs: standby.pairs.filter((p) => p.pairId !== pairId) };
}
