import * as fs from "node:fs";
import type { Applier } from "./apply/types";
import type { StackConfig } from "./config/load";
import { problemsFromZod } from "./config/issues";
import { InputError } from "./errors";
import type { Journal } from "./journal";
import { applyPlan, type CycleResult } from "./loop";
import { AREAS, PlanArtifactSchema, type Area, type DesiredFleet, type PlanArtifact } from "./model";
import { digest } from "./plan";
import { INPUT_LIMITS, readInputFile } from "./config/input-file";

export { PlanArtifactSchema, type PlanArtifact };

/** Reads and validates a plan file; an InputError naming the file and field otherwise. */
export function readPlanArtifact(file: string, stack: string): PlanArtifact {
  let raw: unknown;
  try {
    raw = JSON.parse(readInputFile(file, { field: "--plan", maxBytes: INPUT_LIMITS.plan, gzip: false }));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError("--plan", [{ field: file, message: `cannot read a plan: ${(e as Error).message.split("\n")[0]}` }]);
  }
  const parsed = PlanArtifactSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`plan ${file}`, problemsFromZod(file, parsed.error));
  if (parsed.data.stack !== stack) throw new InputError("--plan", [{ field: "stack", message: `the plan is for stack '${parsed.data.stack}', not '${stack}'` }]);
  return parsed.data;
}

/**
 * Applies exactly a reviewed plan, or refuses (returns why) and changes nothing when: the plan was
 * made without the engine (no stack version to hold it to), the applied desired state or the
 * stack's version moved since, or (`stale`) fresh signals no longer give it. `stale` is asked only
 * for plans decided from signals; a plan made by hand carries no signal to re-check.
 */
export async function applyReviewed(args: { cfg: StackConfig; applier: Applier; journal: Journal; plan: PlanArtifact; clock: () => number; stale: (plan: PlanArtifact, applied: DesiredFleet) => Promise<string | null> }): Promise<{ refused: string[] } | { result: CycleResult }> {
  const { applier, plan } = args;
  const applied = await applier.appliedDesired();
  const refused: string[] = [];
  if (digest(applied) !== digest(plan.previous)) refused.push("the applied desired state changed since the plan was made");
  if (plan.stackVersion === null) refused.push("the plan was made without the Pulumi engine (no stack version to hold it to): make it again where the engine runs");
  else {
    const now = await applier.stackVersion();
    if (now !== plan.stackVersion) refused.push(`the stack was updated since the plan was made (version ${plan.stackVersion} -> ${now})`);
  }
  if (!refused.length && plan.source !== "manual") {
    const why = await args.stale(plan, applied);
    if (why) refused.push(why);
  }
  if (refused.length) return { refused };
  const result = await applyPlan({ stack: args.cfg.stack, policy: args.cfg.policy, applier, journal: args.journal, clock: args.clock }, plan, null, applied);
  return { result };
}

/** An InputError unless `mode` is auto|manual and `area` an area. */
export function validateMode(area: string, mode: string, fields = { area: "--area", mode: "mode" }): { area: Area; mode: "auto" | "manual" } {
  const problems = [];
  if (!["auto", "manual"].includes(mode)) problems.push({ field: fields.mode, message: `must be auto or manual, got '${mode}'` });
  if (!(AREAS as readonly string[]).includes(area)) problems.push({ field: fields.area, message: `must be one of ${AREAS.join(", ")}, got '${area}'` });
  if (problems.length) throw new InputError("fleet mode", problems);
  return { area: area as Area, mode: mode as "auto" | "manual" };
}

/** Sets an area's mode (auto closes the circuit breaker), recorded as an event. */
export function setAreaMode(journal: Journal, stack: string, args: { area: string; mode: string; reason?: string | null; atIso: string }): { area: Area; previous: "auto" | "manual" } {
  const { area } = validateMode(args.area, args.mode);
  const s = journal.areaState(stack, area);
  const reason = args.mode === "manual" ? (args.reason ?? "set by hand") : null;
  journal.transaction(() => {
    journal.setAreaState(stack, area, { ...s, mode: args.mode as "auto" | "manual", consecutiveFailures: args.mode === "auto" ? 0 : s.consecutiveFailures, reason });
    journal.recordEvent({ at: args.atIso, stack, area, kind: `mode-${args.mode}`, detail: { previous: s.mode, reason } });
  });
  return { area, previous: s.mode };
}
