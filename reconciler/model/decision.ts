import { z } from "zod";
import { areaSchema } from "./common";

/**
 * Decision: one command of a plan (karpenter-style). Every decision carries a reason a person can read.
 * - noop: nothing to do (kept in the plan so the reason is visible; never applied)
 * - scale: change a count;  destroy: remove named resources;  keep: hold on drift
 * - switch / fallback: pool moves (pool area)
 * - blocked: an action was wanted but budget, limits or a missing/stale signal forbade it
 */
export const DECISION_KINDS = ["noop", "keep", "scale", "destroy", "switch", "fallback", "blocked"] as const;
export const DecisionSchema = z.strictObject({
  area: areaSchema,
  kind: z.enum(DECISION_KINDS),
  reason: z.string().min(1),
  from: z.unknown(),
  to: z.unknown(),
});
export type Decision = z.infer<typeof DecisionSchema>;
export type DecisionKind = Decision["kind"];

/** Decisions that change the desired fleet; a plan without any makes no Pulumi update. */
export function changesOf(decisions: Decision[]): Decision[] {
  return decisions.filter((d) => d.kind !== "noop" && d.kind !== "keep" && d.kind !== "blocked");
}

export function blockedOf(decisions: Decision[]): Decision[] {
  return decisions.filter((d) => d.kind === "blocked");
}
