import { z } from "zod";
import { gcpZone, labelValue, limitUsd, machineType, pct, positiveUsd } from "./common";
import { PoolPolicySchema } from "./pool";
import { StandbyPolicySchema } from "./standby";

/**
 * FleetPolicy: the configuration of a stack (`fleet:policy` in Pulumi.<stack>.yaml, FLEET_* overrides).
 * Every default lives here; decide/ never holds a literal threshold.
 */

export const PressureThresholdsSchema = z.strictObject({
  /** A sample at or above this memory use counts toward "high". */
  highPct: pct.default(85),
  /** Consecutive samples at or above highPct before the level becomes "high". */
  highSamples: z.int().min(1).max(1000).default(3),
  /** One sample at or above this memory use makes the level "critical". */
  criticalPct: pct.default(95),
  /** Swap use at or above this also makes a sample critical (memory is exhausted). */
  swapCriticalPct: pct.default(50),
  /** Hysteresis: once high or critical, the level returns to normal only below this. */
  normalBelowPct: pct.default(75),
});

export const BurstPolicySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Cap on burst VMs alive at once. */
  maxConcurrent: z.int().min(0).max(100).default(2),
  /** Spend today (UTC) plus the projection of every burst VM to the end of the day stays under this. */
  dailyBudgetUsd: limitUsd(10_000).default(5),
  maxLifetimeHours: z.number().positive().max(168).default(3),
  idleTimeoutMinutes: z.number().positive().max(10080).default(30),
  /** Pools priced above this per hour are never used. */
  maxSpotHourUsd: positiveUsd.default(0.25),
  /** The smallest VM that takes useful load off the workstation. */
  minVcpu: z.int().min(1).max(416).default(4),
  minRamGb: z.number().positive().max(12000).default(16),
  allowedMachineTypes: z
    .array(machineType)
    .min(1, "needs at least one machine type")
    .default(["e2-standard-4", "e2-highmem-4", "n2d-standard-4", "t2d-standard-4", "n2-standard-4"]),
  allowedZones: z
    .array(gcpZone)
    .min(1, "needs at least one zone")
    .default(["us-central1-a", "us-central1-b", "us-east1-b", "us-east4-a", "us-west1-a", "europe-west1-b", "europe-west4-a"]),
  /** Name prefix of burst VMs; keep it unique per GCP project when several stacks share one. */
  namePrefix: z.string().regex(/^[a-z][-a-z0-9]{0,30}$/, "must be 1-31 lowercase letters, digits or hyphens, starting with a letter").default("fleet-burst"),
  image: z.string().min(1).default("debian-cloud/debian-12"),
  diskGb: z.int().min(10).max(65536).default(20),
  /** Gone: burst VMs run on Fleet's own network (stacks/network.ts), never one Fleet does not own. */
  network: z
    .never({ error: "is no longer set: burst VMs run on Fleet's own network (no public address, out through Cloud NAT); delete this field" })
    .optional(),
  pressure: PressureThresholdsSchema.prefault({}),
});

export const SignalsPolicySchema = z.strictObject({
  /** The newest pressure sample must be at most this old, or burst fails closed (no scale-up). */
  maxPressureAgeSeconds: z.int().min(1).max(3600, "must be at most 3600 s: older pressure says nothing about now").default(300),
  /** A price observed longer ago than this is not used (list prices change about monthly). */
  maxPriceAgeHours: z.number().positive().max(8760, "must be at most 8760 h (a year)").default(840),
  /** Live sampling of this machine's memory: how many samples, how far apart. */
  pressureSampleCount: z.int().min(1).max(60).default(3),
  pressureSampleIntervalMs: z.int().min(0).max(60000).default(500),
  /** Price file in the GCP weekly CSV format (.csv or .csv.gz); relative paths are from the project root. */
  pricesFile: z.string().min(1).default("data/gcp-spot-sample.csv.gz"),
  /**
   * Where GCP prices come from: `file` (pricesFile, offline) or `catalog` (the Cloud Billing Catalog
   * API with GCP credentials, cached a day in .fleet/prices/; pricesFile then gives the machine shapes).
   */
  gcpPriceSource: z.enum(["file", "catalog"]).default("file"),
});

export const HpcPolicySchema = z.strictObject({
  /**
   * A shell command that prints the number of pending jobs, e.g. `squeue -h -t PD | wc -l`. When set
   * and the cluster spec has compute.min and compute.max, the compute count follows the queue.
   */
  queueCommand: z.string().min(1).nullable().default(null),
  /** Pending jobs one compute node takes. */
  jobsPerNode: z.int().min(1).default(1),
  queueTimeoutSeconds: z.int().min(1).max(600).default(20),
});

const minutes = z.number().min(0).max(10080);
export const ReconcilePolicySchema = z.strictObject({
  /** review: write the review artifact and stop; auto: apply. */
  mode: z.enum(["review", "auto"]).default("review"),
  /** After an area changes, further increases wait this long (removals never wait: they save money). */
  cooldownMinutes: z
    .strictObject({ burst: minutes.default(5), pool: minutes.default(0), standby: minutes.default(5), hpc: minutes.default(5) })
    .prefault({}),
  /** This many failed applies in a row put the area in manual mode until `fleet mode auto --area A`. */
  maxConsecutiveFailures: z.int().min(1).max(100).default(3),
  reviewDir: z.string().min(1).default(".fleet/review"),
  /** Prometheus /metrics on 127.0.0.1 while `fleet reconcile --schedule` runs; 0 turns it off. */
  metricsPort: z.int().min(0).max(65535).default(9464),
});

export const JournalPolicySchema = z.strictObject({
  /** SQLite journal; relative paths are from the project root. */
  path: z.string().min(1).default(".fleet/journal.db"),
  /** Plans, decisions, applies, events, pressure samples and ended lifetimes older than this are removed. */
  retentionDays: z.int().min(2).max(3650).default(90),
});

export const FleetPolicySchema = z.strictObject({
  /** Written into the `owner` label of every resource. */
  owner: labelValue.default("fleet"),
  burst: BurstPolicySchema.prefault({}),
  signals: SignalsPolicySchema.prefault({}),
  hpc: HpcPolicySchema.prefault({}),
  pool: PoolPolicySchema.prefault({}),
  standby: StandbyPolicySchema.prefault({}),
  reconcile: ReconcilePolicySchema.prefault({}),
  journal: JournalPolicySchema.prefault({}),
});

export type PressureThresholds = z.infer<typeof PressureThresholdsSchema>;
export type BurstPolicy = z.infer<typeof BurstPolicySchema>;
export type SignalsPolicy = z.infer<typeof SignalsPolicySchema>;
export type FleetPolicy = z.infer<typeof FleetPolicySchema>;
export type HpcPolicy = z.infer<typeof HpcPolicySchema>;
export type ReconcilePolicy = z.infer<typeof ReconcilePolicySchema>;

/** Rules that span fields; each returns every problem, so one message lists them all. */
export function policyCrossFieldProblems(policy: FleetPolicy): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const p = policy.burst.pressure;
  if (!(p.normalBelowPct <= p.highPct)) {
    problems.push({ path: "burst.pressure.normalBelowPct", message: `must be <= highPct (${p.highPct}) for hysteresis, got ${p.normalBelowPct}` });
  }
  if (!(p.highPct <= p.criticalPct)) {
    problems.push({ path: "burst.pressure.criticalPct", message: `must be >= highPct (${p.highPct}), got ${p.criticalPct}` });
  }
  const dupZones = duplicates(policy.burst.allowedZones);
  if (dupZones.length) problems.push({ path: "burst.allowedZones", message: `lists ${dupZones.join(", ")} more than once` });
  const dupTypes = duplicates(policy.burst.allowedMachineTypes);
  if (dupTypes.length) problems.push({ path: "burst.allowedMachineTypes", message: `lists ${dupTypes.join(", ")} more than once` });
  return problems;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}
