import type { AreaState } from "./journal";
import { deepEqual } from "./diff";
import { AREAS, type Area, type Decision, type DesiredFleet, type ReconcilePolicy } from "./model";

/** Areas whose desired value differs from the applied one. */
export function changedAreas(applied: DesiredFleet, desired: DesiredFleet): Area[] {
  return AREAS.filter((a) => !deepEqual(applied[a], desired[a]));
}

/** A change that only removes (and so only saves money) is never held back by a cooldown. */
export function isReduction(area: Area, applied: DesiredFleet, desired: DesiredFleet): boolean {
  if (area === "burst") {
    const before = new Set(applied.burst.vms.map((v) => v.name));
    return desired.burst.vms.every((v) => before.has(v.name));
  }
  if (area === "hpc") {
    const a = applied.hpc;
    const d = desired.hpc;
    if (!a) return false;
    if (!d) return true;
    return deepEqual({ ...a, compute: { ...a.compute, count: 0 } }, { ...d, compute: { ...d.compute, count: 0 } }) && d.compute.count <= a.compute.count;
  }
  if (area === "standby") {
    // Pairs removed, or a GPU recognised as lost with its standby kept as it was: nothing is rented.
    // (Held back, the applied pair would make the next update rent its lost GPU's offer again.)
    const before = new Map(applied.standby.pairs.map((p) => [p.pairId, p]));
    return desired.standby.pairs.every((p) => {
      const a = before.get(p.pairId);
      return !!a && (deepEqual(a, p) || (p.state === "gpu-lost" && a.state !== "gpu-lost" && deepEqual(a.standby, p.standby)));
    });
  }
  return false;
}

/**
 * Holds back the areas that may not change now: an area in manual mode keeps its applied value;
 * an area inside its cooldown keeps it too unless the change is a pure reduction. Pure.
 */
export function gateAreas(args: { applied: DesiredFleet; desired: DesiredFleet; states: Record<Area, AreaState>; policy: ReconcilePolicy; atMs: number }): { desired: DesiredFleet; decisions: Decision[]; changed: Area[] } {
  const gated: DesiredFleet = { ...args.desired };
  const decisions: Decision[] = [];
  for (const area of changedAreas(args.applied, args.desired)) {
    const s = args.states[area];
    const hold = (reason: string) => {
      (gated as Record<Area, unknown>)[area] = args.applied[area];
      decisions.push({ area, kind: "keep", reason, from: args.desired[area], to: args.applied[area] });
    };
    if (s.mode === "manual") {
      hold(`area ${area} is in manual mode${s.reason ? ` (${s.reason})` : ""}: its change is not applied; \`fleet mode auto --area ${area}\` resumes it`);
      continue;
    }
    const cooldownMs = args.policy.cooldownMinutes[area] * 60_000;
    if (s.lastChangeAt && args.atMs - Date.parse(s.lastChangeAt) < cooldownMs && !isReduction(area, args.applied, args.desired)) {
      const until = new Date(Date.parse(s.lastChangeAt) + cooldownMs).toISOString();
      hold(`area ${area} changed at ${s.lastChangeAt}; cooldown of ${args.policy.cooldownMinutes[area]} min until ${until}`);
    }
  }
  return { desired: gated, decisions, changed: changedAreas(args.applied, gated) };
}

/**
 * What a plan means, without the names decide makes from its clock: burst VM pools, and the other
 * areas as they are. Fresh signals must give the same shape, or the plan is stale.
 */
export function planShape(d: DesiredFleet): unknown {
  return {
    burst: d.burst.vms.map((v) => `${v.zone}/${v.machineType}`).sort(),
    burstNames: d.burst.vms.filter((v) => !v.name.match(/-\d{8}t\d{4}-\d+$/)).map((v) => v.name).sort(),
    // `since` of a pool placed by this decision is the decision's clock: the same choice made a
    // second later is the same plan (found on the engine: every first placement was dropped as stale).
    pool: d.pool && { ...d.pool, since: undefined },
    // A pair's `since` is the clock of the decision that changed its state, as is the pool's.
    standby: { pairs: d.standby.pairs.map((p) => ({ ...p, since: undefined })) },
    hpc: d.hpc,
  };
}
