import { BlockedError, InputError } from "../errors";
import type { BurstPolicy, BurstVmSpec, Decision, DesiredBurst, PriceRecord, SignalsPolicy } from "../model";
import { newNames, remainingTodayUsd } from "./burst";
import { candidatePools } from "./prices";
import { HOUR_MS, hoursLeftInUtcDay, iso, round } from "./time";

const usd = (n: number) => `$${round(n, 4)}`;

/**
 * Burst VMs by hand (pure): the same limits as decide — the budget signal must exist (fail closed),
 * the price must be fresh and allowed, the count stays within maxConcurrent, and the projected spend
 * within the daily budget. All-or-nothing: a request that does not fit entirely changes nothing.
 */
export function createBurstByHand(args: { previous: DesiredBurst; running?: ReadonlySet<string>; prices: readonly PriceRecord[]; spentTodayUsd: number | null; policy: BurstPolicy; signalsPolicy: SignalsPolicy; count: number; reason: string; atMs: number }): { desired: DesiredBurst; decision: Decision; added: BurstVmSpec[] } {
  const { policy: bp, atMs, count } = args;
  // VMs the applied fleet declares but the cloud no longer runs (preempted, deleted by hand) are
  // dropped, not re-created alongside the new ones: "create 1" makes one VM.
  const previous: DesiredBurst = args.running ? { vms: args.previous.vms.filter((v) => args.running!.has(v.name)) } : args.previous;
  if (!bp.enabled) throw new BlockedError("burst.enabled is false: no burst VMs are created. Nothing was changed.");
  if (args.spentTodayUsd === null) throw new BlockedError("the budget signal (spend today) is missing: no VM is created without it (fail closed). Nothing was changed.");
  const have = previous.vms.length;
  if (have + count > bp.maxConcurrent) throw new BlockedError(`${have} burst VM(s) run and burst.maxConcurrent is ${bp.maxConcurrent}: ${count} more do not fit. Nothing was changed.`);
  const { candidates, rejected } = candidatePools(args.prices, { provider: "gcp", ...bp, maxPriceAgeHours: args.signalsPolicy.maxPriceAgeHours }, atMs);
  const pick = candidates[0];
  if (!pick) throw new BlockedError(`no allowed pool with a fresh price (${rejected.stale} stale > maxPriceAgeHours ${args.signalsPolicy.maxPriceAgeHours}, ${rejected.tooExpensive} above maxSpotHourUsd ${usd(bp.maxSpotHourUsd)}, ${rejected.tooSmall} too small, ${rejected.notAllowed} not allowed${rejected.future ? `, ${rejected.future} dated after the signals' time` : ""}): nothing was created`);
  const perVm = pick.spotHourUsd * Math.min(hoursLeftInUtcDay(atMs), bp.maxLifetimeHours);
  const projected = args.spentTodayUsd + previous.vms.reduce((a, v) => a + remainingTodayUsd(v, atMs), 0) + count * perVm;
  if (projected > bp.dailyBudgetUsd + 1e-9) throw new BlockedError(`${count} VM(s) of ${pick.machineType} at ${usd(pick.spotHourUsd)}/h would project ${usd(projected)} today, above burst.dailyBudgetUsd ${usd(bp.dailyBudgetUsd)} (spent ${usd(args.spentTodayUsd)}). Nothing was changed.`);
  const names = newNames(bp.namePrefix, atMs, count, new Set(args.previous.vms.map((v) => v.name)));
  const added = names.map((name) => ({ name, zone: pick.zone, machineType: pick.machineType, spotHourUsd: pick.spotHourUsd, createdAt: iso(atMs), expiresAt: iso(atMs + bp.maxLifetimeHours * HOUR_MS) }));
  return {
    desired: { vms: [...previous.vms, ...added] },
    added,
    decision: { area: "burst", kind: "scale", reason: `by hand (${args.reason}): burst ${have} -> ${have + count} (${pick.machineType} in ${pick.zone} at ${usd(pick.spotHourUsd)}/h; projected spend ${usd(projected)} of ${usd(bp.dailyBudgetUsd)})`, from: have, to: have + count },
  };
}

export function terminateBurstByHand(args: { previous: DesiredBurst; name?: string; all?: boolean; reason: string }): { desired: DesiredBurst; decision: Decision; removed: string[] } {
  const removed = args.all ? args.previous.vms.map((v) => v.name) : args.previous.vms.filter((v) => v.name === args.name).map((v) => v.name);
  if (!args.all && !removed.length) throw new InputError("fleet burst terminate", [{ field: "--name", message: `no burst VM '${args.name}' in the applied fleet (VMs: ${args.previous.vms.map((v) => v.name).join(", ") || "none"})` }]);
  const left = args.previous.vms.filter((v) => !removed.includes(v.name));
  return { desired: { vms: left }, removed, decision: { area: "burst", kind: removed.length ? "destroy" : "noop", reason: `by hand (${args.reason}): remove ${removed.join(", ") || "nothing (no burst VMs)"}`, from: args.previous.vms.length, to: left.length } };
}
