import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import type { StackConfig } from "../../reconciler/config/load";
import { Journal } from "../../reconciler/journal";
import { DesiredFleetSchema, EMPTY_DESIRED, type DesiredFleet, type PriceRecord } from "../../reconciler/model";
import { manualPlan } from "../../reconciler/plan";
import { buildApp } from "../../reconciler/serve/app";
import { VastClient } from "../../reconciler/vast/client";
import { WEB_DIR } from "../../scripts/commands/serve";
import { RecordingApplier } from "../doubles/applier";
import { sampleOffers, VastDouble } from "../doubles/vast-api";
import { policy } from "../helpers";

export const NOW = Date.parse("2026-11-22T12:00:00.000Z");
export const TOKEN = "t0ken-for-tests-0123456789abcdef0123456789";

export const APPLIED: DesiredFleet = DesiredFleetSchema.parse({
  ...EMPTY_DESIRED,
  pool: { provider: "gcp", region: "us-central1", zone: "", instanceType: "n2-standard-4", vcpu: 4, ramGb: 16, market: "spot", hourUsd: 0.05, since: "2026-11-22T08:00:00.000Z" },
  standby: { pairs: [{ pairId: "train", state: "running", gpu: { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.42, geolocation: "US, CA" }, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T09:00:00.000Z" }] },
  hpc: { name: "lab", baseImage: "/var/lib/fleet/base.qcow2", controller: { vcpu: 2, memoryMiB: 2048, diskGiB: 10 }, compute: { count: 1, vcpu: 2, memoryMiB: 2048, diskGiB: 10 } },
});

/** Prices of the desired pool every hour for two days, plus another pool. */
export function priceHistory(): PriceRecord[] {
  const out: PriceRecord[] = [];
  for (let h = 48; h >= 0; h--) {
    const at = new Date(NOW - h * 3_600_000).toISOString();
    out.push({ provider: "gcp", region: "us-central1", zone: "", machineType: "n2-standard-4", vcpu: 4, ramGb: 16, spotHourUsd: 0.05 + (h % 24 < 12 ? 0.01 : 0), onDemandHourUsd: 0.19, at });
    out.push({ provider: "gcp", region: "europe-west1", zone: "", machineType: "n2-standard-4", vcpu: 4, ramGb: 16, spotHourUsd: 0.06, onDemandHourUsd: 0.21, at });
  }
  return out;
}

export interface Harness {
  app: ReturnType<typeof buildApp>["app"];
  jobs: ReturnType<typeof buildApp>["jobs"];
  applier: RecordingApplier;
  journal: Journal;
  vast: VastDouble;
  dir: string;
  logs: string[];
  reviewFile: string;
  close: () => Promise<void>;
}

/** A server over a seeded journal, a pending review plan, the Vast double and a recording engine. */
/** What the harness's doubles answer; tests change it. */
const harnessState: { staleReason: string | null } = { staleReason: null };
export function setStaleReason(reason: string | null): void {
  harnessState.staleReason = reason;
}

export async function startHarness(opts: { vastKey?: string; token?: string; withPlan?: boolean; engineMissing?: Error } = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-serve-"));
  const vastKey = opts.vastKey ?? "vast-serve-secret-key";
  const vast = new VastDouble(sampleOffers(), vastKey);
  const vastUrl = await vast.start();
  vast.instances.push({ id: 7001, actual_status: "running", label: "fleet-pair-train", gpu_name: "RTX_4090", dph_total: 0.42, ssh_host: "127.0.0.1", ssh_port: 1, start_date: (NOW - 3 * 3_600_000) / 1000 });
  const journal = Journal.open(path.join(dir, "journal.db"));
  const applier = new RecordingApplier(APPLIED);
  const cfg: StackConfig = { root: dir, stack: "test", file: path.join(dir, "Pulumi.test.yaml"), policy: policy({ burst: { dailyBudgetUsd: 5 }, reconcile: { reviewDir: "review" } }), desired: APPLIED };
  // Seed: a burst VM running for 2 h, the pair's GPU for 3 h, a pool switch, a plan.
  journal.startLifetime({ stack: "test", area: "burst", name: "fleet-burst-a1", provider: "gcp", zone: "us-central1-a", machineType: "e2-standard-4", hourUsd: 0.04, startedAt: new Date(NOW - 2 * 3_600_000).toISOString() });
  journal.startLifetime({ stack: "test", area: "standby", name: "gpu-train-101", provider: "vast", zone: "US, CA", machineType: "RTX_4090", hourUsd: 0.42, startedAt: new Date(NOW - 3 * 3_600_000).toISOString() });
  const seeded = manualPlan({ stack: "test", atIso: "2026-11-22T08:00:00.000Z", previous: EMPTY_DESIRED, desired: APPLIED, dailyBudgetUsd: 5, decision: { area: "pool", kind: "switch", reason: "pool gcp/europe-west1//n2-standard-4 -> gcp/us-central1//n2-standard-4: predicted discount 74% vs 68%", from: "gcp/europe-west1//n2-standard-4", to: "gcp/us-central1//n2-standard-4" } });
  journal.recordPlan({ at: seeded.at, stack: "test", source: "reconcile", desired: APPLIED, decisions: seeded.decisions, costs: seeded.costs, signalsDigest: seeded.signalsDigest }, seeded.at);
  const reviewFile = path.join(dir, "review", "plan-test.json");
  if (opts.withPlan !== false) {
    const desired = { ...APPLIED, burst: { vms: [{ name: "fleet-burst-b2", zone: "us-central1-b", machineType: "e2-standard-4", spotHourUsd: 0.04, createdAt: "2026-11-22T11:59:00.000Z", expiresAt: "2026-11-22T15:59:00.000Z" }] } } as DesiredFleet;
    const plan = manualPlan({ stack: "test", atIso: "2026-11-22T11:59:00.000Z", previous: APPLIED, desired, dailyBudgetUsd: 5, decision: { area: "burst", kind: "scale", reason: "pressure high: memory 93% (3 samples >= 90%): 0 -> 1 VM e2-standard-4 in us-central1-b at $0.04/h", from: 0, to: 1 } });
    fs.mkdirSync(path.dirname(reviewFile), { recursive: true });
    fs.writeFileSync(reviewFile, JSON.stringify({ ...plan, source: "reconcile", stackVersion: 1, preview: { counts: { create: 1 }, changes: [{ urn: "urn:pulumi:test::fleet::gcp:compute/instance:Instance::fleet-burst-b2", type: "gcp:compute/instance:Instance", op: "create" }], policy: [] } }));
  }
  const logs: string[] = [];
  const logger = pino({ level: "info", redact: { paths: ["req.headers.authorization"], censor: "[redacted]" } }, new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }));
  const prices = priceHistory();
  const { app, jobs } = buildApp({
    config: () => ({ ...cfg, desired: applier.applied }),
    journal,
    applier: async () => {
      if (opts.engineMissing) throw opts.engineMissing;
      return applier;
    },
    vast: () => new VastClient({ apiKey: vastKey, baseUrl: vastUrl, retries: 1, backoffMs: 1 }),
    prices: { prices: async () => prices },
    hpcStatus: async () => ({ name: "lab", uri: "qemu:///system", network: { name: "lab-net", exists: true, active: true }, nodes: [{ name: "lab-controller", role: "controller", state: "running", vcpu: 2, memoryMiB: 2048, leaseIp: "10.77.0.10", fixedIp: "10.77.0.10", diskPath: null }, { name: "lab-compute-1", role: "compute", state: "shut off", vcpu: 2, memoryMiB: 2048, leaseIp: null, fixedIp: "10.77.0.11", diskPath: null }], strays: [] }) as never,
    token: opts.token ?? TOKEN,
    now: () => NOW,
    logger,
    webDir: WEB_DIR,
    // The re-check double: null (the plan still follows) unless a test sets a reason.
    stale: async () => harnessState.staleReason,
  });
  await app.ready();
  return {
    app, jobs, applier, journal, vast, dir, logs, reviewFile,
    close: async () => {
      await app.close();
      journal.close();
      await vast.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });
