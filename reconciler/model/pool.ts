import { z } from "zod";
import { isoTime, machineType, pct, usd } from "./common";

/** The pool area: one long-running instance in the cheapest safe spot pool, or on-demand fallback. */

export const PoolPolicySchema = z.strictObject({
  enabled: z.boolean().default(false),
  providers: z.array(z.enum(["gcp", "aws"])).min(1).default(["gcp"]),
  /** Region names or prefixes ending in '-' (e.g. "us-", "europe-west1"); empty: every region. */
  allowedRegions: z.array(z.string().min(1)).default([]),
  homeRegion: z.string().min(1).default("us-central1"),
  /** Instance families (e2, n2, m5, c6i...); empty: every family. */
  allowedFamilies: z.array(z.string().min(1)).default([]),
  minVcpu: z.number().positive().default(4),
  maxVcpu: z.number().positive().default(64),
  minRamGb: z.number().positive().default(16),
  maxRamGb: z.number().positive().default(512),
  allowUpsize: z.boolean().default(true),
  allowDownsize: z.boolean().default(true),
  gpu: z.boolean().default(false),
  maxSpotHourUsd: usd.default(2),
  /** A pool is safe while its predicted discount vs its own on-demand price stays above baseline + margin. */
  baselineDiscountPct: pct.default(60),
  discountMarginPct: pct.default(5),
  /** Predicted relative volatility (std of relative price changes) above this is unsafe. */
  maxVolatility: z.number().min(0).default(0.25),
  /** SWITCH needs this many points of discount gain (vs the home region's on-demand price) ... */
  minFutureDiscountGainPct: z.number().min(0).default(3),
  /** ... or this much lower predicted volatility at no higher price. */
  minRiskImprovement: z.number().min(0).default(0.1),
  cooldownMinutes: z.number().min(0).default(10),
  horizonHours: z.number().positive().max(168).default(1),
  /** Cost of one switch in hours of the new pool's price (both instances run while the new one starts). */
  switchPenaltyHours: z.number().min(0).default(1),
  /** AMI of the AWS pool instance (required when the pool may be on AWS). */
  awsImageId: z.string().regex(/^ami-[0-9a-f]{8,17}$/, "must be an AMI id such as ami-0abcdef1234567890").nullable().default(null),
  awsSubnetId: z.string().min(1).nullable().default(null),
  gcpImage: z.string().min(1).default("debian-cloud/debian-12"),
  diskGb: z.int().min(10).max(65536).default(50),
  usage: z
    .strictObject({
      overCpuBelowPct: pct.default(30),
      overMemBelowPct: pct.default(40),
      underCpuAbovePct: pct.default(80),
      underMemAbovePct: pct.default(80),
    })
    .prefault({}),
});

export const DesiredPoolSchema = z.strictObject({
  provider: z.enum(["gcp", "aws"]),
  region: z.string().min(1),
  /** Empty when the price is region-wide (GCP); the component then picks the region's first zone. */
  zone: z.string(),
  instanceType: machineType,
  vcpu: z.number().positive(),
  ramGb: z.number().positive(),
  market: z.enum(["spot", "on-demand"]),
  hourUsd: usd,
  /** When the instance moved here (cooldown starts from it). */
  since: isoTime,
});

export const PoolObservedSchema = z.strictObject({
  instanceId: z.string().min(1),
  state: z.enum(["running", "pending", "stopped", "terminated", "missing"]),
  /** Spot interruption warnings or rebalance recommendations for this instance (EventBridge -> SQS). */
  interruption: z.enum(["none", "rebalance", "interruption"]).default("none"),
});

export const UsageSchema = z.strictObject({
  cpuP95Pct: pct,
  /** null when the memory agent does not report. */
  memP95Pct: pct.nullable(),
  netP95Mbps: z.number().min(0).nullable().default(null),
});

export type PoolPolicy = z.infer<typeof PoolPolicySchema>;
export type DesiredPool = z.infer<typeof DesiredPoolSchema>;
export type PoolObserved = z.infer<typeof PoolObservedSchema>;
export type Usage = z.infer<typeof UsageSchema>;
