import { deepEqual, diffJson, type DiffEntry } from "./diff";
import { changedAreas, gateAreas, planShape } from "./gate";
import type { Journal } from "./journal";
import { buildPlan, manualPlan, type Plan } from "./plan";
import { AREAS, type Area, type Decision, type DesiredFleet, type FleetPolicy, type Signals } from "./model";
import { StackLockedError } from "./lock";
import { poolInstanceName } from "./pool-naming";
import { LimitsBrokenError, PendingOperationsError, PolicyBlockedError, StackBusyError, type Applier, type PreviewSummary, type ResourceChange, type ResourceProgress, type UpSummary } from "./apply/types";

export interface CycleDeps {
  stack: string;
  policy: FleetPolicy;
  /** Fresh signals on every call (the cycle calls it twice: to plan and to re-check). */
  gather: () => Promise<Signals>;
  applier: Applier;
  journal: Journal;
  clock: () => number;
  /** Writes the review artifact (with the stack's version); returns where. */
  writeReview: (plan: Plan, preview: PreviewSummary, stackVersion: number) => string;
}

export interface CycleOptions {
  mode: "auto" | "review";
  /** No writes anywhere (journal, config, stack, review files): only the returned result. */
  dryRun: boolean;
  /** Stop once drift is known (`fleet drift`): no preview of the candidate, no re-check. */
  driftOnly?: boolean;
}

export type CycleResult = { plan: Plan; configDrift: DiffEntry[]; infraDrift: ResourceChange[] } & (
  | { outcome: "in-sync" }
  | { outcome: "drift-found" }
  | { outcome: "dry-run"; preview: PreviewSummary }
  | { outcome: "review-written"; file: string; preview: PreviewSummary }
  | { outcome: "applied"; up: UpSummary }
  | { outcome: "blocked"; reasons: string[]; preview?: PreviewSummary }
  | { outcome: "stale-plan-dropped"; why: string }
  | { outcome: "skipped-busy"; why: string }
  | { outcome: "failed"; error: string; manual: Area[] }
);

/**
 * One reconcile cycle: signals -> decide -> gate (manual mode, cooldown) -> drift. No drift: stop
 * with no Pulumi update. Else preview under the policy pack -> re-check fresh signals against the
 * plan (a plan on stale signals is dropped) -> review artifact, or (auto) up. Failed applies count
 * toward the area's circuit breaker.
 */
export async function runCycle(deps: CycleDeps, opts: CycleOptions): Promise<CycleResult> {
  const { journal, applier, stack } = deps;
  const write = !opts.dryRun;
  const nowIso = () => new Date(deps.clock()).toISOString();

  const pending = await applier.pendingOperations();
  if (pending.length) throw new PendingOperationsError(pending);

  const applied = await applier.appliedDesired();
  const signals = await deps.gather();
  // The pressure history (consecutive-sample rule, hysteresis, `fleet status`) grows with every
  // scheduled cycle, not only with `fleet plan`.
  if (write) journal.recordPressureSamples(signals.pressure.samples);
  // A process killed during an earlier update left its intent in the journal: settle it against
  // the applied fleet the backend holds, so no running VM is uncounted.
  if (write) syncLifetimes(journal, stack, applied, nowIso());
  // Retention: an in-sync cycle a minute adds about 1 KB; what is older than journal.retentionDays goes.
  if (write) journal.prune(new Date(deps.clock() - deps.policy.journal.retentionDays * 86_400_000).toISOString());
  const raw = buildPlan({ stack, source: "reconcile", signals, policy: deps.policy, previous: applied });
  const states = areaStates(journal, stack);
  const gate = gateAreas({ applied, desired: raw.desired, states, policy: deps.policy.reconcile, atMs: Date.parse(signals.at) });
  const plan: Plan = { ...raw, desired: gate.desired, decisions: [...raw.decisions, ...gate.decisions], desiredDiff: diffJson(applied, gate.desired), changes: gate.changed.length ? raw.changes : 0 };
  const configDrift = plan.desiredDiff;
  const infraDrift = (await applier.refreshPreview()).filter((c) => c.op !== "same");
  const base = { plan, configDrift, infraDrift };
  let planId: number | null = null;
  if (write) planId = journal.recordPlan({ at: plan.at, stack, source: "reconcile", desired: plan.desired, decisions: plan.decisions, costs: plan.costs, signalsDigest: plan.signalsDigest }, nowIso());

  if (configDrift.length === 0 && infraDrift.length === 0) {
    if (write) journal.recordEvent({ at: nowIso(), stack, kind: "in-sync" });
    return { ...base, outcome: "in-sync" };
  }
  if (opts.driftOnly) return { ...base, outcome: "drift-found" };

  // Mandatory violations fail the engine's preview (PolicyBlockedError); a stream that reports them
  // without failing is blocked all the same.
  let preview: PreviewSummary;
  try {
    preview = await applier.preview(plan.desired);
  } catch (e) {
    if (!(e instanceof PolicyBlockedError)) throw e;
    preview = { counts: e.run.summary?.counts ?? {}, changes: e.run.changes, policy: e.run.policy };
  }
  const mandatory = preview.policy.filter((v) => v.level === "mandatory");
  if (mandatory.length) {
    const reasons = mandatory.map((v) => `${v.policy}: ${v.message}${v.urn ? ` (${v.urn})` : ""}`);
    if (write) journal.recordEvent({ at: nowIso(), stack, kind: "blocked-by-policy", detail: reasons });
    // In review mode the reviewer sees the blocked plan and each violation in its artifact.
    if (write && opts.mode === "review") deps.writeReview(plan, preview, await applier.stackVersion());
    return { ...base, outcome: "blocked", reasons, preview };
  }

  // Re-check: decide again on fresh signals; a different shape means the plan was made on stale data.
  const why = staleBecause({ stack, policy: deps.policy, applied, states, plan, fresh: await deps.gather() });
  if (why) {
    if (write) journal.recordEvent({ at: nowIso(), stack, kind: "stale-plan-dropped", detail: why });
    return { ...base, outcome: "stale-plan-dropped", why };
  }

  if (opts.dryRun) return { ...base, outcome: "dry-run", preview };
  if (opts.mode === "review") {
    // The stack's version goes with the artifact: approving refuses a plan the stack has moved past.
    const file = deps.writeReview(plan, preview, await applier.stackVersion());
    journal.recordEvent({ at: nowIso(), stack, kind: "review-written", detail: { file, planId } });
    return { ...base, outcome: "review-written", file, preview };
  }
  return { ...(await applyPlan(deps, plan, planId, applied)), infraDrift };
}

type AreaStates = Record<Area, ReturnType<Journal["areaState"]>>;

/**
 * Why a plan no longer follows from fresh signals (decide and the gate again, compared by shape:
 * pools and counts, not clock-made names), or null. Pure; the cycle and approval both use it.
 */
export function staleBecause(args: { stack: string; policy: FleetPolicy; applied: DesiredFleet; states: AreaStates; plan: Plan; fresh: Signals }): string | null {
  const { applied, fresh, plan } = args;
  const again = buildPlan({ stack: args.stack, source: "reconcile", signals: fresh, policy: args.policy, previous: applied });
  const regated = gateAreas({ applied, desired: again.desired, states: args.states, policy: args.policy.reconcile, atMs: Date.parse(fresh.at) });
  if (deepEqual(planShape(regated.desired), planShape(plan.desired))) return null;
  return `fresh signals (${fresh.at}) no longer give this plan: ${diffJson(planShape(plan.desired), planShape(regated.desired)).map((e) => e.path).join(", ")}`;
}

/** The journal's state of every area (mode, failures, last change), as the gate reads it. */
export function areaStates(journal: Journal, stack: string): AreaStates {
  return Object.fromEntries(AREAS.map((a) => [a, journal.areaState(stack, a)])) as AreaStates;
}

/** Applies a plan's desired fleet, journals the result and VM lifetimes, and runs the circuit breaker. */
export async function applyPlan(deps: Omit<CycleDeps, "gather" | "writeReview">, plan: Plan, planId: number | null, applied: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<CycleResult> {
  // Under the stack's lock, the fleet this was decided from must still be the applied one: a
  // command that read it, then waited while another applied, would otherwise undo that apply
  // (two `burst create`s each adding "the" one VM). Nothing is journalled or applied then.
  return deps.applier.withLock(async () => {
    const holds = await deps.applier.appliedDesired();
    if (deepEqual(holds, applied)) return lockedApplyPlan(deps, plan, planId, applied, onProgress);
    const why = "the applied fleet changed since this was decided (another fleet command applied meanwhile): nothing was applied; run it again";
    deps.journal.recordEvent({ at: new Date(deps.clock()).toISOString(), stack: deps.stack, kind: "stale-base", detail: { planId } });
    return { plan, configDrift: plan.desiredDiff, infraDrift: [] as ResourceChange[], outcome: "stale-plan-dropped" as const, why };
  });
}

async function lockedApplyPlan(deps: Omit<CycleDeps, "gather" | "writeReview">, plan: Plan, planId: number | null, applied: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<CycleResult> {
  const { journal, stack } = deps;
  const nowIso = () => new Date(deps.clock()).toISOString();
  const base = { plan, configDrift: plan.desiredDiff, infraDrift: [] as ResourceChange[] };
  const areas = changedAreas(applied, plan.desired);
  const startedAt = nowIso();
  // Intent before effect: what this update adds is counted as rented from now, before the engine
  // starts; a process killed during `up` leaves them counted (spend is never blind), and the next
  // cycle settles the journal against the applied fleet (syncLifetimes).
  journal.transaction(() => {
    journal.recordEvent({ at: startedAt, stack, kind: "apply-intent", detail: { planId, ...lifetimeChanges(applied, plan.desired) } });
    startLifetimes(journal, stack, applied, plan.desired, startedAt);
  });
  try {
    const up = await deps.applier.up(plan.desired, onProgress);
    const finishedAt = nowIso();
    journal.transaction(() => {
      journal.recordApply({ stack, planId, startedAt, finishedAt, status: "succeeded", summary: up.counts });
      syncLifetimes(journal, stack, plan.desired, finishedAt);
      for (const area of areas) journal.setAreaState(stack, area, { ...journal.areaState(stack, area), consecutiveFailures: 0, lastChangeAt: finishedAt });
    });
    return { ...base, outcome: "applied", up };
  } catch (e) {
    const finishedAt = nowIso();
    // What the failed (or refused) update did not make is not rented: settle against what the
    // backend now holds as applied (the fleet before, recorded back by the applier).
    const holds = await deps.applier.appliedDesired().catch(() => applied);
    syncLifetimes(journal, stack, holds, finishedAt);
    if (e instanceof StackBusyError) {
      journal.recordApply({ stack, planId, startedAt, finishedAt, status: "skipped", summary: { reason: e.message } });
      return { ...base, outcome: "skipped-busy", why: e.message };
    }
    // Another process is changing the stack: nothing was tried; the caller says busy (exit 5).
    if (e instanceof StackLockedError) throw e;
    if (e instanceof LimitsBrokenError) {
      // Refused before the engine ran: blocked (exit 4), not a failure toward the breaker.
      const reasons = e.violations.map((v) => `${v.field}: ${v.message}`);
      journal.recordEvent({ at: finishedAt, stack, kind: "blocked-by-limits", detail: reasons });
      return { ...base, outcome: "blocked", reasons };
    }
    if (e instanceof PolicyBlockedError) {
      // The policy pack refused the update: blocked (exit 4, 409), not a failure toward the breaker.
      const reasons = e.violations.map((v) => `${v.policy}: ${v.message}${v.urn ? ` (${v.urn})` : ""}`);
      journal.recordEvent({ at: finishedAt, stack, kind: "blocked-by-policy", detail: reasons });
      return { ...base, outcome: "blocked", reasons, preview: { counts: e.run.summary?.counts ?? {}, changes: e.run.changes, policy: e.run.policy } };
    }
    const error = e instanceof Error ? e.message : String(e);
    const manual: Area[] = [];
    journal.transaction(() => {
      journal.recordApply({ stack, planId, startedAt, finishedAt, status: "failed", summary: { error } });
      for (const area of areas) {
        const s = journal.areaState(stack, area);
        const failures = s.consecutiveFailures + 1;
        const trip = failures >= deps.policy.reconcile.maxConsecutiveFailures;
        if (trip) manual.push(area);
        journal.setAreaState(stack, area, { ...s, consecutiveFailures: failures, mode: trip ? "manual" : s.mode, reason: trip ? `circuit breaker: ${failures} failed applies in a row, last: ${error.slice(0, 200)}` : s.reason });
        if (trip) journal.recordEvent({ at: finishedAt, stack, area, kind: "circuit-breaker-open", detail: { failures, error } });
      }
    });
    return { ...base, outcome: "failed", error, manual };
  }
}

/**
 * A change made by hand (CLI, API): one manual plan with its decision, journalled, then applied
 * through the same path as a cycle (lifetimes, breaker). `applied` is what the engine holds.
 */
export async function applyByHand(deps: Omit<CycleDeps, "gather" | "writeReview">, applied: DesiredFleet, desired: DesiredFleet, decision: Decision, onProgress?: (p: ResourceProgress) => void): Promise<CycleResult> {
  const atIso = new Date(deps.clock()).toISOString();
  const plan = manualPlan({ stack: deps.stack, atIso, previous: applied, desired, dailyBudgetUsd: deps.policy.burst.dailyBudgetUsd, decision });
  const planId = deps.journal.recordPlan({ at: atIso, stack: deps.stack, source: "manual", desired, decisions: plan.decisions, costs: plan.costs, signalsDigest: plan.signalsDigest }, atIso);
  return applyPlan(deps, plan, planId, applied, onProgress);
}

/**
 * Lifetimes (the basis of spend): burst VMs, the pairs' GPUs and Vast standbys (one per pair and
 * offer), started when they appear in the applied fleet, ended when they leave it.
 */
type Rented = { area: "burst" | "pool" | "standby"; provider: string; zone: string; machineType: string; hourUsd: number };

function rented(d: DesiredFleet): Map<string, Rented> {
  return new Map<string, Rented>([
    ...d.burst.vms.map((v) => [v.name, { area: "burst", provider: "gcp", zone: v.zone, machineType: v.machineType, hourUsd: v.spotHourUsd }] as const),
    // The pool instance: one lifetime per placement (a switch ends one and starts the next), at
    // the hourly price it was placed at.
    ...(d.pool ? [[poolInstanceName(d.pool), { area: "pool", provider: d.pool.provider, zone: d.pool.zone || d.pool.region, machineType: d.pool.instanceType, hourUsd: d.pool.hourUsd }] as const] : []),
    ...d.standby.pairs.flatMap((p) => (p.state !== "gpu-lost" && p.gpu ? [[`gpu-${p.pairId}-${p.gpu.offerId}`, { area: "standby", provider: "vast", zone: p.gpu.geolocation, machineType: p.gpu.gpuName, hourUsd: p.gpu.dphUsd }] as const] : [])),
    ...d.standby.pairs.flatMap((p) => (p.standby.target === "vast" ? [[`standby-${p.pairId}-${p.standby.offerId}`, { area: "standby", provider: "vast", zone: p.standby.geolocation, machineType: "cpu", hourUsd: p.standby.dphUsd }] as const] : [])),
  ]);
}

/** What an update changes in what is rented: the lifetimes it starts and ends (journalled as its intent). */
function lifetimeChanges(applied: DesiredFleet, desired: DesiredFleet): { start: string[]; end: string[] } {
  const before = rented(applied);
  const after = rented(desired);
  return { start: [...after.keys()].filter((n) => !before.has(n)), end: [...before.keys()].filter((n) => !after.has(n)) };
}

/** Starts the lifetimes of what `desired` adds to `applied` (before the update runs). */
function startLifetimes(journal: Journal, stack: string, applied: DesiredFleet, desired: DesiredFleet, atIso: string): void {
  const before = rented(applied);
  for (const [name, r] of rented(desired)) if (!before.has(name)) journal.startLifetime({ stack, name, startedAt: atIso, ...r });
}

/**
 * Settles the journal with the fleet the backend holds as applied: an open lifetime of something the
 * applied fleet does not have ends now; something it has without an open lifetime starts now. After
 * an update (its removals end), after a failed one (what it did not make ends), and at the start of
 * every cycle (after a process was killed mid-update), journal and applied fleet agree.
 */
export function syncLifetimes(journal: Journal, stack: string, applied: DesiredFleet, atIso: string): void {
  const want = rented(applied);
  const open = new Set(journal.openLifetimes(stack).map((l) => l.name));
  for (const name of open) if (!want.has(name)) journal.endLifetime(stack, name, atIso);
  for (const [name, r] of want) if (!open.has(name)) journal.startLifetime({ stack, name, startedAt: atIso, ...r });
}
