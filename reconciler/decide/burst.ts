import type { BurstPolicy, BurstVmSpec, Decision, DesiredBurst, Signals, SignalsPolicy } from "../model";
import { pressureLevel, samplesUpTo, type PressureReading } from "./pressure";
import { candidatePools, latestPrice } from "./prices";
import { HOUR_MS, compactStamp, hoursLeftInUtcDay, iso, round } from "./time";

export interface BurstDecideInput {
  atMs: number;
  policy: BurstPolicy;
  signalsPolicy: SignalsPolicy;
  signals: Signals;
  previous: DesiredBurst;
}

export interface BurstOutcome {
  desired: DesiredBurst;
  decisions: Decision[];
  pressure: PressureReading & { fresh: boolean };
  hourlyUsd: number;
  /** Spend today plus every desired VM to the end of the UTC day (capped by its lifetime); null without a budget signal. */
  projectedDailyUsd: number | null;
}

const EPS = 1e-9;
const usd = (n: number) => `$${round(n, 4)}`;

/** Cost of a VM from the clock to the end of the UTC day, or to its expiry if sooner. */
export function remainingTodayUsd(vm: Pick<BurstVmSpec, "spotHourUsd" | "expiresAt">, atMs: number): number {
  const hours = Math.max(0, Math.min(hoursLeftInUtcDay(atMs), (Date.parse(vm.expiresAt) - atMs) / HOUR_MS));
  return vm.spotHourUsd * hours;
}

/**
 * The burst decision (pure): remove VMs past their lifetime or idle, keep the projection within the
 * daily budget, then scale toward maxConcurrent on high/critical pressure with the cheapest allowed
 * pool. Fails closed: no scale-up without fresh pressure, a budget figure and a fresh price.
 */
export function decideBurst(input: BurstDecideInput): BurstOutcome {
  const { atMs, policy: bp, signals } = input;
  const decisions: Decision[] = [];
  const d = (kind: Decision["kind"], reason: string, from: unknown, to: unknown) => decisions.push({ area: "burst", kind, reason, from, to });
  const prevByName = new Map(input.previous.vms.map((v) => [v.name, v]));

  // What runs now, as specs; a VM whose price is unknown is projected at the highest price policy allows.
  const running: BurstVmSpec[] = signals.actual.burst.map((vm) => {
    const createdMs = Date.parse(vm.createdAt);
    const price = prevByName.get(vm.name)?.spotHourUsd ?? latestPrice(signals.prices, "gcp", vm.zone, vm.machineType, atMs)?.spotHourUsd ?? bp.maxSpotHourUsd;
    // Keep the creation and expiry the VM was declared with: both are baked into its GCE max run
    // duration (a change replaces the VM), and the observed time (when the journal recorded it, or
    // GCP's creationTimestamp) is seconds later. The same signals must give the same desired fleet.
    const prev = prevByName.get(vm.name);
    const expiresAt = prev?.expiresAt ?? iso(createdMs + bp.maxLifetimeHours * HOUR_MS);
    return { name: vm.name, zone: vm.zone, machineType: vm.machineType, spotHourUsd: price, createdAt: prev?.createdAt ?? vm.createdAt, expiresAt };
  });
  const observed = new Map(signals.actual.burst.map((vm) => [vm.name, vm]));

  const samples = samplesUpTo(signals.pressure.samples, atMs);
  const reading = pressureLevel(samples, bp.pressure);
  const fresh = reading.latest !== undefined && atMs - Date.parse(reading.latest.at) <= input.signalsPolicy.maxPressureAgeSeconds * 1000;
  const pressure = { ...reading, fresh };

  if (!bp.enabled) {
    for (const vm of running) d("destroy", `burst.enabled is false: remove ${vm.name}`, vm.name, null);
    if (!running.length) d("noop", "burst.enabled is false: no burst VMs", 0, 0);
    return finish([], decisions, pressure, signals, atMs);
  }

  let kept: BurstVmSpec[] = [];
  for (const vm of running) {
    const ageH = (atMs - Date.parse(vm.createdAt)) / HOUR_MS;
    const lastBusy = observed.get(vm.name)?.lastBusyAt;
    const idleMin = lastBusy ? (atMs - Date.parse(lastBusy)) / 60_000 : 0;
    if (ageH >= bp.maxLifetimeHours) d("destroy", `${vm.name} age ${round(ageH, 2)} h >= maxLifetimeHours ${bp.maxLifetimeHours}: remove`, vm.name, null);
    else if (lastBusy && idleMin >= bp.idleTimeoutMinutes) d("destroy", `${vm.name} idle ${round(idleMin, 1)} min >= idleTimeoutMinutes ${bp.idleTimeoutMinutes}: remove`, vm.name, null);
    else kept.push(vm);
  }

  // Over the cap (policy was lowered): remove the newest first.
  if (kept.length > bp.maxConcurrent) {
    const byAge = [...kept].sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    for (const vm of byAge.slice(bp.maxConcurrent)) d("destroy", `${kept.length} VMs > maxConcurrent ${bp.maxConcurrent}: remove ${vm.name}`, vm.name, null);
    kept = byAge.slice(0, bp.maxConcurrent);
  }

  // Money: keep spend today plus the rest of the day within the budget, dropping the costliest first.
  const spent = signals.budget?.spentTodayUsd;
  let projected = spent === undefined ? null : spent + sum(kept.map((vm) => remainingTodayUsd(vm, atMs)));
  if (spent !== undefined && projected !== null) {
    const byCost = [...kept].sort((a, b) => remainingTodayUsd(b, atMs) - remainingTodayUsd(a, atMs));
    while (projected > bp.dailyBudgetUsd + EPS && byCost.length) {
      const vm = byCost.shift()!;
      d("destroy", `projected spend ${usd(projected)} > dailyBudgetUsd ${usd(bp.dailyBudgetUsd)} (spent ${usd(spent)}): remove ${vm.name}`, vm.name, null);
      projected -= remainingTodayUsd(vm, atMs);
      kept = kept.filter((k) => k !== vm);
    }
  }

  const memText = reading.latest ? `mem ${round(reading.latest.memUsedPct, 1)}%` : "no sample";
  let target = kept.length;
  let why = "";
  if (!fresh) {
    if (kept.length < bp.maxConcurrent) {
      const age = reading.latest ? `newest sample ${round((atMs - Date.parse(reading.latest.at)) / 1000, 0)} s old > maxPressureAgeSeconds ${input.signalsPolicy.maxPressureAgeSeconds}` : "no pressure sample";
      d("blocked", `pressure signal stale or missing (${age}): no scale-up (fail closed)`, kept.length, kept.length);
    }
  } else if (reading.level === "critical") {
    target = bp.maxConcurrent;
    why = `pressure critical (${memText}, swap ${round(reading.latest!.swapUsedPct, 1)}%; criticalPct ${bp.pressure.criticalPct})`;
  } else if (reading.level === "high") {
    target = Math.min(bp.maxConcurrent, kept.length + 1);
    why = `pressure high (${memText} >= ${bp.pressure.highPct}% for ${reading.highRun} samples)`;
  }

  const added: BurstVmSpec[] = [];
  const want = target - kept.length;
  if (want > 0) {
    const { candidates, rejected } = candidatePools(
      signals.prices,
      { provider: "gcp", ...bp, maxPriceAgeHours: input.signalsPolicy.maxPriceAgeHours },
      atMs,
    );
    const pick = candidates[0];
    if (spent === undefined || projected === null) {
      d("blocked", `${why}: budget signal missing, no scale-up (fail closed)`, kept.length, kept.length);
    } else if (!pick) {
      d("blocked", `${why}: no allowed pool with a fresh price (${rejected.stale} stale > maxPriceAgeHours ${input.signalsPolicy.maxPriceAgeHours}, ${rejected.tooExpensive} above maxSpotHourUsd ${usd(bp.maxSpotHourUsd)}, ${rejected.tooSmall} below ${bp.minVcpu} vCPU/${bp.minRamGb} GB, ${rejected.notAllowed} outside allowed zones/types${rejected.future ? `, ${rejected.future} dated after the signals' time` : ""})`, kept.length, kept.length);
    } else {
      const perVm = pick.spotHourUsd * Math.min(hoursLeftInUtcDay(atMs), bp.maxLifetimeHours);
      const affordable = perVm <= 0 ? want : Math.floor((bp.dailyBudgetUsd - projected + EPS) / perVm);
      const n = Math.max(0, Math.min(want, affordable));
      const names = newNames(bp.namePrefix, atMs, n, new Set(running.map((v) => v.name)));
      for (const name of names) {
        added.push({ name, zone: pick.zone, machineType: pick.machineType, spotHourUsd: pick.spotHourUsd, createdAt: iso(atMs), expiresAt: iso(atMs + bp.maxLifetimeHours * HOUR_MS) });
      }
      if (n > 0) {
        projected += n * perVm;
        d("scale", `${why}: burst ${kept.length} -> ${kept.length + n} (${pick.machineType} in ${pick.zone} at ${usd(pick.spotHourUsd)}/h; projected spend ${usd(projected)} of ${usd(bp.dailyBudgetUsd)})`, kept.length, kept.length + n);
      }
      if (n < want) {
        d("blocked", `${why}: ${want - n} more VM${want - n > 1 ? "s" : ""} would project ${usd(projected + (want - n) * perVm)} > dailyBudgetUsd ${usd(bp.dailyBudgetUsd)} (spent ${usd(spent)})`, kept.length + n, target);
      }
    }
  }

  if (!decisions.length) {
    const state = fresh ? `pressure ${reading.level} (${memText})` : "pressure unknown";
    const cap = target >= bp.maxConcurrent && reading.level !== "normal" ? ` at maxConcurrent ${bp.maxConcurrent}` : "";
    d("noop", `${state}: burst stays at ${kept.length}${cap}`, kept.length, kept.length);
  }
  return finish([...kept, ...added], decisions, pressure, signals, atMs);
}

function finish(vms: BurstVmSpec[], decisions: Decision[], pressure: BurstOutcome["pressure"], signals: Signals, atMs: number): BurstOutcome {
  const spent = signals.budget?.spentTodayUsd;
  return {
    desired: { vms },
    decisions,
    pressure,
    hourlyUsd: round(sum(vms.map((v) => v.spotHourUsd)), 6),
    projectedDailyUsd: spent === undefined ? null : round(spent + sum(vms.map((v) => remainingTodayUsd(v, atMs))), 6),
  };
}

export function newNames(prefix: string, atMs: number, n: number, taken: Set<string>): string[] {
  const names: string[] = [];
  for (let i = 1; names.length < n; i++) {
    const name = `${prefix}-${compactStamp(atMs)}-${i}`;
    if (!taken.has(name)) names.push(name);
  }
  return names;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
