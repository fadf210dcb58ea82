import { z } from "zod";
import { gceName, gcpZone, isoTime, machineType, usd } from "./common";
import { HpcSpecSchema } from "./hpc";
import { DesiredPoolSchema } from "./pool";
import { DesiredStandbySchema } from "./standby";

/**
 * DesiredFleet: what the reconciler writes to `fleet:desired` and stacks/index.ts declares.
 * This is the one contract between reconciler/ and stacks/.
 */

export const BurstVmSpecSchema = z.strictObject({
  name: gceName,
  zone: gcpZone,
  machineType,
  spotHourUsd: usd,
  createdAt: isoTime,
  /** createdAt + maxLifetimeHours: written to the `expires-at` label and enforced by GCE (max run duration). */
  expiresAt: isoTime,
});

export const DesiredBurstSchema = z.strictObject({
  vms: z.array(BurstVmSpecSchema).default([]),
});


export const DesiredFleetSchema = z.strictObject({
  version: z.literal(1).default(1),
  burst: DesiredBurstSchema.prefault({}),
  /** The pool instance, or null when this stack has none. */
  pool: DesiredPoolSchema.nullable().default(null),
  standby: DesiredStandbySchema.prefault({}),
  /** The hpc cluster, or null when this stack has none. */
  hpc: HpcSpecSchema.nullable().default(null),
});

export type BurstVmSpec = z.infer<typeof BurstVmSpecSchema>;
export type DesiredBurst = z.infer<typeof DesiredBurstSchema>;
export type DesiredFleet = z.infer<typeof DesiredFleetSchema>;

export const EMPTY_DESIRED: DesiredFleet = DesiredFleetSchema.parse({});
