import { z } from "zod";
import { gceName, gcpZone, isoTime, machineType, pct, usd } from "./common";

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
  spotHourUsd: usd,
  onDemandHourUsd: usd,
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

export const ActualFleetSchema = z.strictObject({
  burst: z.array(BurstVmObservedSchema).default([]),
});

export const SignalsSchema = z.strictObject({
  at: isoTime,
  pressure: z.strictObject({ samples: z.array(PressureSampleSchema) }),
  prices: z.array(PriceRecordSchema),
  /** null when the budget source could not be read: decide then fails closed. */
  budget: z.strictObject({ spentTodayUsd: usd }).nullable(),
  actual: ActualFleetSchema.prefault({}),
});

export type PressureSample = z.infer<typeof PressureSampleSchema>;
export type PriceRecord = z.infer<typeof PriceRecordSchema>;
export type BurstVmObserved = z.infer<typeof BurstVmObservedSchema>;
export type ActualFleet = z.infer<typeof ActualFleetSchema>;
export type Signals = z.infer<typeof SignalsSchema>;
