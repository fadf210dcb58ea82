import { BlockedError, InputError } from "../errors";
import { gpuDphUsd } from "../decide/standby";
import { round } from "../decide/time";
import type { DesiredStandby, Pair, StandbyPolicy, VastOffer } from "../model";
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

/** Limits every rented GPU must pass: the offer's own price, the number of pairs, the GPUs' total $/hour. */
function checkLimits(others: readonly Pair[], offer: VastOffer, policy: StandbyPolicy, countsAsNewPair: boolean): void {
  const refusals: string[] = [];
  if (offer.dphUsd > policy.gpu.maxDphUsd) refusals.push(`offer ${offer.id} costs $${round(offer.dphUsd, 4)}/h, above standby.gpu.maxDphUsd $${policy.gpu.maxDphUsd}/h`);
  if (countsAsNewPair && others.length + 1 > policy.maxPairs) refusals.push(`${others.length} pair(s) exist and standby.maxPairs is ${policy.maxPairs}`);
  const total = gpuDphUsd(others) + offer.dphUsd;
  if (total > policy.maxTotalDphUsd) refusals.push(`the GPUs would cost $${round(total, 4)}/h together, above standby.maxTotalDphUsd $${policy.maxTotalDphUsd}/h`);
  if (refusals.length) throw new BlockedError(`not renting offer ${offer.id}: ${refusals.join("; ")}. Nothing was changed.`);
}

function gpuOf(offer: VastOffer): NonNullable<Pair["gpu"]> {
  return { offerId: offer.id, gpuName: offer.gpuName, dphUsd: offer.dphUsd, geolocation: offer.geolocation };
}

export function findPair(standby: DesiredStandby, pairId: string, field = "--pair"): Pair {
  const pair = standby.pairs.find((p) => p.pairId === pairId);
  if (!pair) throw new InputError("standby", [{ field, message: `no pair '${pairId}' in the applied fleet (pairs: ${standby.pairs.map((p) => p.pairId).join(", ") || "none"}); see \`fleet gpu status\`` }]);
  return pair;
}

/** A new pair on this offer, its standby on the GPU's continent. */
export function bootPair(args: { standby: DesiredStandby; offer: VastOffer; policy: StandbyPolicy; atIso: string; pairId?: string }): { standby: DesiredStandby; pair: Pair } {
  const { standby, offer, policy } = args;
  const pairId = args.pairId ?? newPairId(standby, offer.id);
  if (standby.pairs.some((p) => p.pairId === pairId)) throw new InputError("fleet gpu boot", [{ field: "--pair", message: `pair '${pairId}' exists already` }]);
  if (standby.pairs.some((p) => p.state !== "gpu-lost" && p.gpu?.offerId === offer.id)) throw new InputError("fleet gpu boot", [{ field: "--offer", message: `offer ${offer.id} is already rented by a pair of this fleet` }]);
  checkLimits(standby.pairs, offer, policy, true);
  const pair: Pair = {
    pairId,
    state: "running",
    gpu: gpuOf(offer),
    standby: { region: standbyRegionFor(offer.geolocation, policy.regionByContinent), machineType: policy.standbyMachineType, diskGb: policy.standbyDiskGb },
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
  const others = args.standby.pairs.filter((p) => p.pairId !== pair.pairId);
  checkLimits(others, args.offer, args.policy, false);
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
