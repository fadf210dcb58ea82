import { stackContext } from "../../reconciler/context";
import { EXIT, InputError } from "../../reconciler/errors";
import { chooseOffer, chooseStandbyOffer } from "../../reconciler/decide/standby";
import type { VastOffer } from "../../reconciler/model";
import { vastFromEnv } from "../../reconciler/standby/sources";
import { bootGpu, destroyGpu, gpuStatus, restoreGpu, type GpuDeps } from "../../reconciler/standby/service";
import { gpuHostTarget, readSyncStamp } from "../../reconciler/standby/ssh";
import type { VastClient } from "../../reconciler/vast/client";
import type { Journal } from "../../reconciler/journal";
import { openApplier, openJournal } from "./engine";
import { table } from "./table";

function vastOrFail(what: string): VastClient {
  const vast = vastFromEnv();
  if (!vast) throw new InputError(what, [{ field: "VAST_API_KEY", message: "not set: export your Vast.ai API key (it is read from the environment only and never logged)" }]);
  return vast;
}

export function positiveInt(value: string | undefined, field: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InputError(what, [{ field, message: `'${value}' is not a positive whole number` }]);
  return n;
}

function nonNegative(value: string | undefined, field: string, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InputError(what, [{ field, message: `'${value}' is not a number >= 0` }]);
  return n;
}

/** Hosts a Vast standby could be rented from (standby.vastStandby), cheapest first. */
async function standbyOffers(cfg: ReturnType<typeof stackContext>, maxDphUsd: number | undefined, limit: number, json: boolean | undefined): Promise<number> {
  const p = cfg.policy.standby;
  const req = { ...p.vastStandby, maxDphUsd: maxDphUsd ?? p.vastStandby.maxDphUsd };
  const offers = await vastOrFail("fleet gpu offers --standby").searchCpuOffers({ ...req, diskGb: p.standbyDiskGb, limit });
  if (json) {
    process.stdout.write(JSON.stringify({ offers }, null, 2) + "\n");
    return EXIT.ok;
  }
  if (!offers.length) {
    process.stdout.write(`no host meets standby.vastStandby (>= ${req.cpuCoresMin} cores, >= ${req.ramGbMin} GB RAM, >= ${p.standbyDiskGb} GB disk, <= $${req.maxDphUsd}/h${req.cpuOnly ? ", no GPU" : ""})\n`);
    return EXIT.ok;
  }
  const rows = offers.map((o: VastOffer) => [String(o.id), String(o.cpuCores), `${Math.round(o.ramGb)} GB`, o.numGpus ? `${o.numGpus}x ${o.gpuName}` : "none", `$${o.dphUsd.toFixed(4)}`, o.reliability.toFixed(3), `${Math.round(o.diskGb)} GB`, o.geolocation]);
  process.stdout.write(table([["OFFER", "CORES", "RAM", "GPU", "$/HOUR", "RELIABILITY", "DISK", "LOCATION"], ...rows]) + "\n");
  const best = chooseStandbyOffer(offers, req, p.standbyDiskGb, "");
  if (best) process.stdout.write(`cheapest meeting the policy: ${best.offer.id} (gpu boot picks on the GPU's continent first${p.target === "vast" ? "" : "; standby.target is gcp, so boot uses GCP"})\n`);
  return EXIT.ok;
}

export async function gpuOffersCommand(opts: { stack: string; gpuRamMin?: string; maxPrice?: string; gpu?: string; limit?: string; standby?: boolean; json?: boolean }): Promise<number> {
  const what = "fleet gpu offers";
  const gpuRamMinGb = nonNegative(opts.gpuRamMin, "--gpu-ram-min", what);
  const maxDphUsd = nonNegative(opts.maxPrice, "--max-price", what);
  const limit = positiveInt(opts.limit, "--limit", what) ?? 20;
  if (opts.standby && (opts.gpu !== undefined || opts.gpuRamMin !== undefined)) throw new InputError(what, [{ field: "--standby", message: "lists standby hosts: --gpu and --gpu-ram-min do not apply" }]);
  const cfg = stackContext(opts.stack);
  if (opts.standby) return standbyOffers(cfg, maxDphUsd, limit, opts.json);
  const req = cfg.policy.standby.gpu;
  const offers = await vastOrFail(what).searchOffers({ gpuName: opts.gpu ?? req.gpuName, gpuRamMinGb: gpuRamMinGb ?? req.gpuRamMinGb, maxDphUsd: maxDphUsd ?? req.maxDphUsd, reliabilityMin: req.reliabilityMin, diskGb: req.diskGb, limit });
  if (opts.json) {
    process.stdout.write(JSON.stringify({ offers }, null, 2) + "\n");
    return EXIT.ok;
  }
  if (!offers.length) {
    process.stdout.write("no offers meet these requirements\n");
    return EXIT.ok;
  }
  const rows = offers.map((o: VastOffer) => [String(o.id), `${o.numGpus}x ${o.gpuName}`, `${Math.round(o.gpuRamGb)} GB`, `$${o.dphUsd.toFixed(4)}`, o.reliability.toFixed(3), `${Math.round(o.diskGb)} GB`, o.geolocation]);
  process.stdout.write(table([["OFFER", "GPU", "GPU RAM", "$/HOUR", "RELIABILITY", "DISK", "LOCATION"], ...rows]) + "\n");
  const best = chooseOffer(offers, { ...req, gpuRamMinGb: gpuRamMinGb ?? req.gpuRamMinGb, maxDphUsd: maxDphUsd ?? req.maxDphUsd });
  if (best) process.stdout.write(`cheapest meeting the policy: ${best.id} (fleet gpu boot --offer ${best.id})\n`);
  return EXIT.ok;
}

function gpuDeps(stack: string, what: string): { deps: GpuDeps; close: () => void } {
  const vast = vastOrFail(what);
  const cfg = stackContext(stack);
  let journal: Journal | undefined;
  return {
    deps: { cfg, vast, journal: () => (journal ??= openJournal(cfg)), applier: () => openApplier(cfg, what), now: () => Date.now(), say: (line) => process.stdout.write(line + "\n") },
    close: () => journal?.close(),
  };
}

async function withGpuDeps(stack: string, what: string, fn: (deps: GpuDeps) => Promise<unknown>): Promise<number> {
  const { deps, close } = gpuDeps(stack, what);
  try {
    await fn(deps);
    return EXIT.ok;
  } finally {
    close();
  }
}

export async function gpuBootCommand(opts: { stack: string; offer: string; pair?: string }): Promise<number> {
  const offerId = positiveInt(opts.offer, "--offer", "fleet gpu boot")!;
  return withGpuDeps(opts.stack, "fleet gpu boot", (deps) => bootGpu(deps, { offerId, pairId: opts.pair }));
}

export async function gpuDestroyCommand(opts: { stack: string; instance?: string; pair?: string }): Promise<number> {
  const what = "fleet gpu destroy";
  if (!opts.instance === !opts.pair) throw new InputError(what, [{ field: "--instance", message: "give exactly one of --instance ID or --pair P" }]);
  const instanceId = positiveInt(opts.instance, "--instance", what);
  return withGpuDeps(opts.stack, what, (deps) => destroyGpu(deps, { instanceId, pairId: opts.pair }));
}

export async function gpuRestoreCommand(opts: { stack: string; pair: string; offer?: string }): Promise<number> {
  const offerId = positiveInt(opts.offer, "--offer", "fleet gpu restore");
  return withGpuDeps(opts.stack, "fleet gpu restore", (deps) => restoreGpu(deps, { pairId: opts.pair, offerId }));
}

export async function gpuStatusCommand(opts: { stack: string; json?: boolean }): Promise<number> {
  const cfg = stackContext(opts.stack);
  const journal = (() => {
    try {
      return openJournal(cfg);
    } catch {
      return null;
    }
  })();
  try {
    const keyFile = cfg.policy.standby.sshKeyFile;
    const status = await gpuStatus({
      cfg,
      standby: cfg.desired.standby,
      vast: vastFromEnv(),
      journal,
      now: Date.now(),
      lastSync: (i) => (i.sshHost && i.sshPort ? readSyncStamp(gpuHostTarget(cfg.root, { id: i.id, sshHost: i.sshHost, sshPort: i.sshPort }, keyFile)) : Promise.resolve(null)),
    });
    if (opts.json) {
      process.stdout.write(JSON.stringify(status, null, 2) + "\n");
      return EXIT.ok;
    }
    const lines = [`Vast.ai: ${status.vast === "ok" ? "read" : status.vast === "no-key" ? "not read (VAST_API_KEY is not set)" : `unreadable: ${status.vast}`}`];
    if (!status.pairs.length) lines.push("no GPU/standby pairs (fleet gpu offers, then fleet gpu boot --offer O)");
    else {
      const rows = status.pairs.map((p) => [p.pairId, p.state, p.gpu.instanceId ? `${p.gpu.instanceId} (${p.gpu.status ?? "?"})` : "-", p.gpu.gpuName ?? "-", p.gpu.dphUsd === null ? "-" : `$${p.gpu.dphUsd.toFixed(4)}/h`, p.standby.target === "gcp" ? `${p.standby.machineType} ${p.standby.region}` : `vast ${p.standby.instanceId ? `#${p.standby.instanceId} (${p.standby.status ?? "?"})` : `offer ${p.standby.offerId} (not found)`} $${p.standby.dphUsd.toFixed(4)}/h`, p.lastSyncAt ?? "unknown", `$${p.costSoFarUsd.toFixed(2)}`]);
      lines.push(table([["PAIR", "STATE", "GPU INSTANCE", "GPU", "PRICE", "STANDBY", "LAST SYNC", "COST SO FAR"], ...rows]));
    }
    if (status.unmanaged.length) lines.push(`Vast instances of no pair: ${status.unmanaged.join(", ")} (fleet sweep)`);
    process.stdout.write(lines.join("\n") + "\n");
    return EXIT.ok;
  } finally {
    journal?.close();
  }
}
