import * as path from "node:path";
import { readAppliedMirror } from "./config/applied";
import { loadStackConfig, findProjectRoot, resolveFromRoot, type StackConfig } from "./config/load";
import { Journal } from "./journal";
import { JournalBudgetSource, JournalFleetReader } from "./signals/journal-sources";
import { SystemPressureSource } from "./signals/pressure-system";
import { GcpCsvPriceSource, machineShapes } from "./signals/prices-gcp-csv";
import { GcpCatalogPriceSource } from "./signals/prices-gcp-catalog";
import type { LiveSources } from "./signals/gather";
import { FleetWithStandbyReader, offersForRestore, vastFromEnv } from "./standby/sources";
import { EC2Client } from "@aws-sdk/client-ec2";
import { FleetError, InputError } from "./errors";
import { AwsOnDemandPrices } from "./signals/prices-aws-ondemand";
import { AwsSpotPriceSource } from "./signals/prices-aws-api";
import { awsPoolClients, observeAwsPool, observeGcpPool } from "./signals/pool-live";
import { gcpAuthFromEnv, gcpBase } from "./gcp/rest";
import { GCP_CREDENTIALS_HINT, gcpCredentialsFromEnv } from "./gcp/auth";
import type { PriceSource } from "./signals/types";
import { CommandQueueSource, FleetWithHpcReader } from "./signals/hpc-sources";
import { GcpBurstReader } from "./signals/burst-gcp";
import type { FleetReader } from "./signals/types";

/**
 * Where the burst area's actual fleet comes from: GCP itself when credentials are set (preempted or
 * hand-deleted VMs are seen, and each VM's last busy time), else the journal's record of what was
 * applied (a machine without GCP credentials cannot apply burst VMs either).
 */
export function burstReader(cfg: StackConfig, journal: Journal, env: NodeJS.ProcessEnv = process.env): FleetReader {
  const auth = gcpAuthFromEnv(env, cfg.gcpProject);
  return auth ? new GcpBurstReader(auth, gcpBase("compute", env), cfg.stack) : new JournalFleetReader(journal, cfg.stack);
}

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * Prices for decide: the GCP price file, plus live AWS spot prices (with on-demand prices from the
 * Price List API) when the pool may be on AWS. AWS regions must be named (not prefixes): each is
 * queried, and a prefix cannot be enumerated without listing every region.
 */
export function poolPrices(cfg: StackConfig, gcp: PriceSource, now: () => number): PriceSource {
  const pool = cfg.policy.pool;
  if (!pool.enabled || !pool.providers.includes("aws")) return gcp;
  const describe = () => `${gcp.describe?.() ?? "GCP prices"}; AWS spot prices live (EC2)`;
  const regions = [...new Set([...pool.allowedRegions.filter((r) => AWS_REGION.test(r)), ...(cfg.desired.pool?.provider === "aws" ? [cfg.desired.pool.region] : [])])];
  if (!regions.length) throw new InputError(cfg.file, [{ field: "fleet:policy.pool.allowedRegions", message: "the pool may be on AWS (pool.providers has aws) but no AWS region is named: list them, e.g. [us-east-1, us-west-2]" }]);
  const onDemand = AwsOnDemandPrices.inUsEast1();
  const families = new Set(pool.allowedFamilies);
  const aws = new AwsSpotPriceSource({
    regions,
    lookbackHours: 24 * 7,
    // Only types the pool could use get an on-demand lookup (one Price List call each, cached).
    accept: (type, spec) => (families.size === 0 || families.has(type.split(".")[0]!)) && spec.vcpu >= pool.minVcpu && spec.vcpu <= pool.maxVcpu && spec.ramGb >= pool.minRamGb && spec.ramGb <= pool.maxRamGb && (pool.gpu || spec.gpus === 0),
    onDemandHourUsd: (region, type) => onDemand.hourUsd(region, type),
    client: (region) => new EC2Client({ region, maxAttempts: 3 }),
    now,
  });
  return { prices: async () => [...(await gcp.prices()), ...(await aws.prices())], describe };
}

/** How the pool instance is observed each cycle: AWS by tags; GCP by name with Cloud Monitoring (needs GCP credentials, reconciler/gcp/auth.ts). */
function poolObserver(cfg: StackConfig, now: () => number): LiveSources["pool"] {
  const pool = cfg.desired.pool;
  if (!pool) return undefined;
  if (pool.provider === "aws") return () => observeAwsPool(pool, cfg.stack, awsPoolClients, now());
  const auth = gcpAuthFromEnv(process.env, cfg.gcpProject);
  if (!auth) return () => Promise.reject(new Error(`no GCP credentials or project: the GCP pool instance cannot be observed (${GCP_CREDENTIALS_HINT})`));
  const warn = (e: unknown) => process.stderr.write(`fleet: pool usage unknown this cycle (${e instanceof Error ? e.message : String(e)})\n`);
  return () => observeGcpPool(pool, auth, { compute: gcpBase("compute"), monitoring: gcpBase("monitoring") }, now(), 24, warn);
}

/** Resolves the stack's configuration (validated) from the project root. */
/** The stack's config; its desired fleet is the applied one last seen from the backend, when known. */
export function stackContext(stack: string, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const cfg = loadStackConfig(findProjectRoot(), stack, env);
  const applied = readAppliedMirror(cfg.root, cfg.stack);
  return applied ? { ...cfg, desired: applied } : cfg;
}

export function journalPath(cfg: StackConfig): string {
  return resolveFromRoot(cfg.root, cfg.policy.journal.path);
}

/**
 * GCP prices: the price file, or the Cloud Billing Catalog (signals.gcpPriceSource: catalog) with
 * the file's machine shapes, cached a day per project root. The catalog needs GCP credentials:
 * without them the prices signal is missing (fail closed), never a silent fallback to old prices.
 */
export function gcpPrices(cfg: StackConfig, now: () => number, env: NodeJS.ProcessEnv = process.env): PriceSource {
  const s = cfg.policy.signals;
  const file = resolveFromRoot(cfg.root, s.pricesFile);
  if (s.gcpPriceSource === "file") return new GcpCsvPriceSource(file, now);
  const creds = gcpCredentialsFromEnv(env);
  // No credentials: the prices signal is missing, and the cycle fails closed saying why.
  const why = `signals.gcpPriceSource is catalog, which needs GCP credentials: ${GCP_CREDENTIALS_HINT}; or set it to file`;
  if (!creds) return { prices: () => Promise.reject(new FleetError(why)), describe: () => `GCP Cloud Billing Catalog (unreadable: no credentials)` };
  return new GcpCatalogPriceSource({
    base: gcpBase("cloudbilling", env),
    auth: { project: cfg.gcpProject ?? "-", token: (url) => creds.authorization(url) },
    cacheFile: resolveFromRoot(cfg.root, path.join(".fleet", "prices", "gcp-catalog.json")),
    shapes: () => machineShapes(file),
    now,
    onRefreshError: (e) => process.stderr.write(`fleet: GCP catalog prices not refreshed, using the cached ones (${e instanceof Error ? e.message : String(e)})\n`),
  });
}

/** The live sources of the embedded default: this machine's memory, the price file, the journal. */
export function liveSources(cfg: StackConfig, journal: Journal, now: () => number): LiveSources {
  const s = cfg.policy.signals;
  const vast = vastFromEnv();
  const warn = (what: string) => (e: unknown) => process.stderr.write(`fleet: ${what} (${e instanceof Error ? e.message : String(e)})\n`);
  return {
    pressure: new SystemPressureSource({ count: s.pressureSampleCount, intervalMs: s.pressureSampleIntervalMs, historyMs: 3_600_000, journal, now }),
    prices: poolPrices(cfg, gcpPrices(cfg, now), now),
    pool: poolObserver(cfg, now),
    budget: new JournalBudgetSource(journal, cfg.stack),
    fleet: new FleetWithStandbyReader(new FleetWithHpcReader(burstReader(cfg, journal), cfg.desired.hpc, warn("hpc cluster unreadable")), { standby: cfg.desired.standby, vast, journal, stack: cfg.stack, onError: warn("standby pairs unobserved"), idleBelowPct: cfg.policy.standby.idleBelowPct, now }),
    offers: () => offersForRestore(vast, cfg.desired.standby, cfg.policy.standby, warn("Vast offers unavailable")),
    queue: cfg.policy.hpc.queueCommand ? new CommandQueueSource(cfg.policy.hpc.queueCommand, cfg.policy.hpc.queueTimeoutSeconds * 1000) : undefined,
  };
}
