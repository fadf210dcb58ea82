import { z } from "zod";

/** Shared field schemas. Every schema that names money, time or cloud identifiers uses these. */

export const isoTime = z.iso.datetime({ offset: true, error: "must be an ISO-8601 time such as 2026-01-31T12:00:00Z" });
export const pct = z.number().min(0, "must be a percentage from 0 to 100").max(100, "must be a percentage from 0 to 100");
export const usd = z.number().min(0, "must be a non-negative amount in USD");
export const positiveUsd = z.number().positive("must be a positive amount in USD");
/**
 * An hourly price observed from a source (price file, signals file, an API). Zero is refused: no
 * machine is free, and a $0 price would let any number of VMs fit any budget. The ceiling is far
 * above any real VM (the largest GPU machines cost about $100/h).
 */
export const hourPriceUsd = z.number().positive("must be a price above $0 per hour: no machine is free").max(1000, "must be at most $1000 per hour");
/** A budget or limit in USD a person sets: bounded so a typo cannot switch the limit off. */
export const limitUsd = (max: number) => usd.max(max, `must be at most ${max} USD (a larger value would switch the limit off)`);

/** GCE resource names: lowercase letter first, then letters, digits, hyphens; at most 63 characters. */
export const gceName = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a GCE name: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters");
export const gcpZone = z.string().regex(/^[a-z]+-[a-z]+[0-9]+-[a-z]$/, "must be a GCP zone such as us-central1-a");
export const gcpRegion = z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, "must be a GCP region such as us-central1");
export const machineType = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "must be a machine/instance type such as e2-standard-4");
/** GCP label values: lowercase letters, digits, underscores, hyphens; at most 63 characters. */
export const labelValue = z.string().regex(/^[a-z0-9_-]{1,63}$/, "must be a label value: 1-63 lowercase letters, digits, '_' or '-'");

export const AREAS = ["burst", "pool", "standby", "hpc"] as const;
export const areaSchema = z.enum(AREAS);
export type Area = z.infer<typeof areaSchema>;
