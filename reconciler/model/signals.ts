import { z } from "zod";
import { gceName, gcpZone, hourPriceUsd, isoTime, machineType, pct, usd } from "./common";
import { PoolObservedSchema, UsageSchema } from "./pool";
import { StandbyObservedSchema, VastOfferSchema } from "./standby";

/**
 * Signals: everything decide reads about the world, with the clock (`at`) inside.
 * A signals file (`--signals FILE.json`) has exactly this shape and replaces every live source.
 */

export const PressureSampleSchema = z.strictObject({
  at: isoTime,
  /** Memory in use excluding page cache and buffers, percent of total. */
  memUsedPct: pct,
  swapUsedPct: pct,
});

export const PriceRecordSchema = z.strictObject({
  provider: z.enum(["gcp", "aws"]),
  region: z.string().min(1),
  /** Empty for a region-wide price (the GCP list prices one region); decide applies it to the region's zones. */
  zone: z.string(),
  machineType,
  vcpu: z.number().positive(),
  ramGb: z.number().positive(),
  spotHourUsd: hourPriceUsd,
  onDemandHourUsd: hourPriceUsd,
  /** Accelerators the machine type comes with (GCP a2/a3/g2 types); absent means none known. */
  gpus: z.int().min(0).max(16).optional(),
  /** When the price was observed; absent means at the signals' own `at`. */
  at: isoTime.optional(),
});

export const BurstVmObservedSchema = z.strictObject({
  name: gceName,
  zone: gcpZone,
  machineType,
  createdAt: isoTime,
  /** Last time the VM did work; null when unknown (then only the lifetime limit removes it). */
  lastBusyAt: isoTime.nullable().default(null),
});

export const HpcNodeObservedSchema = z.strictObject({
  name: z.string().min(1),
  /** libvirt's state (running, shut off, paused, ...) or "missing". */
  state: z.string().min(1),
});

export const ActualFleetSchema = z.strictObject({
  burst: z.array(BurstVmObservedSchema).default([]),
  /** null when the cluster could not be read (libvirtd down): hpc then decides nothing. */
  hpc: z.strictObject({ nodes: z.array(HpcNodeObservedSchema) }).nullable().default(null),
  /** The pool instance as it is; null when there is none or it could not be read. */
  pool: PoolObservedSchema.nullable().default(null),
  /** Each GPU of a pair as observed on Vast.ai; null when Vast could not be read (then standby decides nothing). */
  standby: z.array(StandbyObservedSchema).nullable().default(null),
});

export const SignalsSchema = z.strictObject({
  at: isoTime,
  pressure: z.strictObject({ samples: z.array(PressureSampleSchema) }),
  prices: z.array(PriceRecordSchema),
  /** null when the budget source could not be read: decide then fails closed. */
  budget: z.strictObject({ spentTodayUsd: usd }).nullable(),
  actual: ActualFleetSchema.prefault({}),
  /** Pending jobs of the hpc scheduler (from policy hpc.queueCommand); null when unknown. */
  queue: z.strictObject({ pendingJobs: z.int().min(0) }).nullable().default(null),
  /** Usage of the pool instance over the last window (CloudWatch / GCP monitoring); null when unknown. */
  usage: UsageSchema.nullable().default(null),
  /** Vast.ai offers (for auto-restore); empty when not searched. */
  offers: z.array(VastOfferSchema).default([]),
});

export type PressureSample = z.infer<typeof PressureSampleSchema>;
export type PriceRecord = z.infer<typeof PriceRecordSchema>;
export type BurstVmObserved = z.infer<typeof BurstVmObservedSchema>;
export type ActualFleet = z.infer<typeof ActualFleetSchema>;
/** What a FleetReader returns: defaults (e.g. hpc: null) are filled in by the schema. */
export type ActualFleetInput = z.input<typeof ActualFleetSchema>;
export type SignalsInput = z.input<typeof SignalsSchema>;
export type HpcNodeObserved = z.infer<typeof HpcNodeObservedSchema>;
export type Signals = z.infer<typeof SignalsSchema>;
