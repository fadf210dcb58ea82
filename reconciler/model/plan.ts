import { z } from "zod";
import { isoTime } from "./common";
import { DecisionSchema } from "./decision";
import { DesiredFleetSchema } from "./desired";
import { SignalsSchema } from "./signals";

/**
 * The plan and its review artifact (plan.json): one schema, used to write the artifact and to read it
 * back (`fleet apply --plan`, the API's approve), so nothing crosses by a cast.
 */
export const DiffEntrySchema = z.strictObject({
  path: z.string(),
  op: z.enum(["add", "remove", "change"]),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

export const PlanSchema = z.strictObject({
  version: z.literal(1),
  stack: z.string().min(1),
  at: isoTime,
  source: z.string().min(1),
  previous: DesiredFleetSchema,
  desired: DesiredFleetSchema,
  decisions: z.array(DecisionSchema),
  /** Number of decisions that change the desired fleet; 0 means an apply makes no Pulumi update. */
  changes: z.int().min(0),
  blocked: z.int().min(0),
  desiredDiff: z.array(DiffEntrySchema),
  costs: z.strictObject({
    hourlyUsd: z.number(),
    projectedDailyUsd: z.number().nullable(),
    previousHourlyUsd: z.number(),
    deltaHourlyUsd: z.number(),
    spentTodayUsd: z.number().nullable(),
    dailyBudgetUsd: z.number(),
  }),
  pressure: z.strictObject({ level: z.string(), fresh: z.boolean(), memUsedPct: z.number().nullable(), swapUsedPct: z.number().nullable(), samples: z.int().min(0) }),
  signals: SignalsSchema,
  signalsDigest: z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 hex digest"),
});

export const PreviewSummarySchema = z.strictObject({
  counts: z.record(z.string(), z.number()),
  changes: z.array(z.strictObject({ urn: z.string(), type: z.string(), op: z.string() })),
  policy: z.array(z.strictObject({ policy: z.string(), message: z.string(), level: z.enum(["advisory", "warning", "mandatory"]), urn: z.string().optional() })),
});

export const PlanArtifactSchema = PlanSchema.extend({
  /** The engine's preview of `desired` under the policy pack; null when none was made. */
  preview: PreviewSummarySchema.nullable(),
  /** Why there is no preview when the engine was there and failed. */
  previewError: z.string().nullable().default(null),
  /** The stack's version when the plan was made: approval refuses a plan the stack has moved past. */
  stackVersion: z.int().min(0).nullable(),
});
export type PlanArtifact = z.infer<typeof PlanArtifactSchema>;
