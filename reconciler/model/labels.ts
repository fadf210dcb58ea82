/**
 * The label contract: the labels (GCP) / tags (AWS) / label objects (Vast, declared for the policy
 * pack) every fleet resource carries. The components write them with fleetLabels, the policy pack
 * reads them (policies/rules.ts), sweep and the live readers find resources by them.
 */
export const LABELS = {
  managedBy: "managed-by",
  stack: "fleet-stack",
  area: "fleet-area",
  owner: "owner",
  expiresAt: "expires-at",
  /** The VM's hourly price in micro-USD (label values cannot hold a '.'). */
  hourMicroUsd: "fleet-hour-microusd",
  /** On a VM that is on-demand on purpose (the pool's fallback). */
  fallback: "fleet-fallback",
  pair: "fleet-pair",
} as const;

export const MANAGED_BY = "fleet";
export const REQUIRED_LABELS = [LABELS.managedBy, LABELS.area, LABELS.owner, LABELS.expiresAt] as const;
export type LabelledArea = "burst" | "pool" | "standby" | "hpc";

/** A label value GCP accepts (lowercase letters, digits, - and _; at most 63). */
export function toLabelValue(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, "-").slice(0, 63);
}

/** An hourly price as the price label's value: whole micro-USD. */
export function hourLabel(hourUsd: number): string {
  return String(Math.round(hourUsd * 1e6));
}

/** The labels of one fleet resource; `hourUsd` for VMs (what the price policies read). */
export function fleetLabels(args: { stack: string; area: LabelledArea; owner: string; expiresAt: string; hourUsd?: number; extra?: Record<string, string> }): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.stack]: toLabelValue(args.stack),
    [LABELS.area]: args.area,
    [LABELS.owner]: args.owner,
    [LABELS.expiresAt]: args.expiresAt,
    ...(args.hourUsd === undefined ? {} : { [LABELS.hourMicroUsd]: hourLabel(args.hourUsd) }),
    ...args.extra,
  };
}
