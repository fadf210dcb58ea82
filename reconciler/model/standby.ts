import { z } from "zod";
import { gcpRegion, isoTime, machineType, usd } from "./common";
import { safePath } from "./safe";

/**
 * The standby area: Vast.ai GPU instances, each paired with a CPU standby that holds its work: a GCP
 * Spot VM with its own data disk (target gcp), or a Vast.ai CPU instance (target vast).
 */

export const GpuRequirementsSchema = z.strictObject({
  gpuName: z.string().min(1).nullable().default(null),
  gpuRamMinGb: z.number().min(0).default(16),
  maxDphUsd: usd.default(1),
  reliabilityMin: z.number().min(0).max(1).default(0.95),
  diskGb: z.int().min(10).default(50),
  image: z.string().min(1).default("pytorch/pytorch:latest"),
});

/** What a Vast.ai standby (standby.target vast) must offer; the cheapest offer meeting it is rented. */
export const VastStandbyRequirementsSchema = z.strictObject({
  cpuCoresMin: z.number().min(1).default(2),
  ramGbMin: z.number().min(1).default(4),
  maxDphUsd: usd.default(0.15),
  reliabilityMin: z.number().min(0).max(1).default(0.98),
  /** Only hosts rented without a GPU (Vast's num_gpus 0); false: any host meeting the CPU needs, GPU or not (its price counts). */
  cpuOnly: z.boolean().default(true),
  image: z.string().min(1).default("ubuntu:22.04"),
});

export const StandbyPolicySchema = z.strictObject({
  /** Where each pair's standby lives: a GCP Spot VM with its own disk, or a Vast.ai CPU instance. */
  target: z.enum(["gcp", "vast"]).default("gcp"),
  /** Choose a new GPU on its own when one is lost (else a person runs `fleet gpu restore`). */
  autoRestore: z.boolean().default(false),
  /**
   * Destroy a running pair's GPU after it has been idle this long (GPU utilisation below
   * idleBelowPct); the standby and its data stay (pair gpu-lost, restorable). null: never.
   * A warning decision comes 5 minutes before.
   */
  autoDestroyAfterIdleMinutes: z.int().min(10).nullable().default(null),
  idleBelowPct: z.number().min(0).max(100).default(5),
  /** Limits checked before any GPU is rented (boot, restore, auto-restore). */
  maxPairs: z.int().min(0).max(100).default(2),
  /** Ceiling on the summed $/hour rented on Vast.ai: every pair's GPU, and its standby when that is on Vast. */
  maxTotalDphUsd: usd.default(2),
  standbyMachineType: machineType.default("e2-medium"),
  /** The most a GCP standby VM may cost per hour: its price label, as the policy pack's price rules read it. */
  standbyMaxHourUsd: usd.default(0.05),
  standbyDiskGb: z.int().min(10).max(65536).default(100),
  syncIntervalSeconds: z.int().min(5).max(3600).default(30),
  syncPaths: z.array(safePath).min(1).max(32).default(["/workspace"]),
  /** A script run on each new GPU host over ssh after boot (path; relative to the project root); null: none. */
  setupScript: z.string().min(1).nullable().default(null),
  /** How long boot waits for the new GPU host to answer ssh before it reports a failure. */
  sshWaitSeconds: z.int().min(5).max(3600).default(300),
  /** Private key for ssh to the GPU hosts (the key registered with Vast.ai); null: ssh's default identity. */
  sshKeyFile: z.string().min(1).nullable().default(null),
  /** Standby region per GPU continent (from the offer's geolocation country). */
  regionByContinent: z.record(z.string(), gcpRegion).default({ NA: "us-central1", SA: "southamerica-east1", EU: "europe-west1", AS: "asia-east1", OC: "australia-southeast1", AF: "europe-west1" }),
  gpu: GpuRequirementsSchema.prefault({}),
  vastStandby: VastStandbyRequirementsSchema.prefault({}),
});

/** A GCP standby: a Spot VM in a region of the GPU's continent with its own data disk. */
export const GcpStandbySchema = z.strictObject({ target: z.literal("gcp").default("gcp"), region: gcpRegion, machineType, diskGb: z.int().min(10) });
/** A Vast.ai standby: a CPU instance rented from this offer; its container disk holds the copy. */
export const VastStandbySchema = z.strictObject({
  target: z.literal("vast"),
  offerId: z.int().positive(),
  dphUsd: usd,
  geolocation: z.string(),
  diskGb: z.int().min(10),
});
export const StandbyPlaceSchema = z.discriminatedUnion("target", [GcpStandbySchema, VastStandbySchema]);

export const PairSchema = z.strictObject({
  pairId: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, "must be 1-31 lowercase letters, digits or '-', starting with a letter"),
  /**
   * running: GPU and standby both up; gpu-lost: the GPU is gone, the standby and its disk stay;
   * restoring: a new GPU is being booted and the standby's copy pulled onto it (running once done).
   */
  state: z.enum(["running", "gpu-lost", "restoring"]),
  gpu: z
    .strictObject({
      offerId: z.int().positive(),
      gpuName: z.string(),
      dphUsd: usd,
      geolocation: z.string(),
    })
    .nullable(),
  standby: StandbyPlaceSchema,
  since: isoTime,
});

export const DesiredStandbySchema = z.strictObject({ pairs: z.array(PairSchema).default([]) });

export const StandbyObservedSchema = z.strictObject({
  pairId: z.string(),
  gpu: z.strictObject({
    instanceId: z.string(),
    state: z.enum(["running", "lost", "destroyed"]),
    /** Since when the GPU has been idle without a break (null: busy or unknown). */
    idleSince: isoTime.nullable().default(null),
  }),
  standby: z.strictObject({
    name: z.string(),
    /** A Vast standby as Vast shows it (up, down: stopped or offline, gone: vanished); unknown for GCP standbys. */
    state: z.enum(["up", "down", "gone", "unknown"]).default("unknown"),
  }),
});

export const VastOfferSchema = z.strictObject({
  id: z.int().positive(),
  /** "" for a host rented without a GPU. */
  gpuName: z.string(),
  numGpus: z.int().min(0),
  gpuRamGb: z.number().min(0),
  dphUsd: usd,
  reliability: z.number().min(0).max(1),
  diskGb: z.number().min(0),
  geolocation: z.string(),
  cpuCores: z.number().min(0).default(0),
  ramGb: z.number().min(0).default(0),
});

export type GpuRequirements = z.infer<typeof GpuRequirementsSchema>;
export type StandbyPolicy = z.infer<typeof StandbyPolicySchema>;
export type Pair = z.infer<typeof PairSchema>;
export type StandbyPlace = z.infer<typeof StandbyPlaceSchema>;
export type VastStandbyRequirements = z.infer<typeof VastStandbyRequirementsSchema>;
export type DesiredStandby = z.infer<typeof DesiredStandbySchema>;
export type StandbyObserved = z.infer<typeof StandbyObservedSchema>;
export type VastOffer = z.infer<typeof VastOfferSchema>;
