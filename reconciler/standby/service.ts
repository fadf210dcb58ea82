import * as fs from "node:fs";
import * as path from "node:path";
import type { Applier, ResourceProgress } from "../apply/types";
import type { StackConfig } from "../config/load";
import { spendUsd } from "../costs";
import { chooseOffer, chooseStandbyOffer } from "../decide/standby";
import { BlockedError, FleetError, InputError } from "../errors";
import type { Journal } from "../journal";
import { applyByHand } from "../loop";
import type { Decision, DesiredFleet, DesiredStandby, Pair, StandbyPlace, VastOffer } from "../model";
import { VastError, type VastClient, type VastInstance } from "../vast/client";
import { bootPair, describeStandby, findPair, markRunning, removePair, restorePair } from "./actions";
import { instanceOfPair, pairLabel, parseVastLabel, standbyLabel } from "./observe";
import { GPU_DESTROY_EVENT } from "./sources";
import { gpuHostTarget, sshRun, waitForSsh } from "./ssh";

/**
 * The GPU operations behind `fleet gpu ...` and the HTTP API: every one validates its input and
 * checks the limits before the engine is asked for anything, then changes the desired fleet through
 * the apply pipeline (journalled plan, breaker). Progress goes to `say`, one line per step.
 */
export interface GpuDeps {
  cfg: StackConfig;
  vast: VastClient;
  /** Opened only after the input is valid. */
  applier: () => Promise<Applier>;
  /** Opened on first use (after the input is valid), so bad input leaves no journal behind. */
  journal: () => Journal;
  now: () => number;
  say: (line: string) => void;
  /** ssh to a new GPU host (tests inject; default the system's ssh). */
  ssh?: { wait: typeof waitForSsh; run: typeof sshRun };
}

/** The offer if it is still rentable; an InputError naming --offer if not. */
async function liveOffer(vast: VastClient, offerId: number): Promise<VastOffer> {
  const [offer] = await vast.searchOffers({ offerId, limit: 1 });
  if (!offer) throw new InputError("offer", [{ field: "--offer", message: `offer ${offerId} is not rentable any more (rented or withdrawn): run \`fleet gpu offers\` and pick another` }]);
  return offer;
}

function describeOffer(o: VastOffer): string {
  return `offer ${o.id}: ${o.numGpus}x ${o.gpuName} ${Math.round(o.gpuRamGb)} GB, $${o.dphUsd.toFixed(4)}/h, reliability ${o.reliability.toFixed(3)}, ${o.geolocation || "unknown location"}`;
}

function progressLine(p: ResourceProgress): string {
  const name = p.urn.split("::").pop() ?? p.urn;
  return `  ${p.phase === "started" ? "..." : p.phase === "done" ? "ok " : "ERR"} ${p.op} ${p.type} ${name}`;
}

/** Plans, journals and applies one by-hand standby change. */
async function applyStandby(deps: GpuDeps, applier: Applier, applied: DesiredFleet, standby: DesiredStandby, decision: Decision): Promise<void> {
  const r = await applyByHand({ stack: deps.cfg.stack, policy: deps.cfg.policy, applier, journal: deps.journal(), clock: deps.now }, applied, { ...applied, standby }, decision, (p) => deps.say(progressLine(p)));
  if (r.outcome === "failed") throw new ApplyFailedError(`apply failed: ${r.error}${r.manual.length ? ` (circuit breaker: ${r.manual.join(", ")} now manual)` : ""}`);
  if (r.outcome !== "applied") throw new ApplyFailedError(`apply did not run: ${r.outcome === "skipped-busy" || r.outcome === "stale-plan-dropped" ? r.why : r.outcome}`);
}

export class ApplyFailedError extends FleetError {}

/**
 * With standby.target vast, the host for the new pair's standby: the cheapest Vast offer meeting
 * standby.vastStandby, on the GPU's continent when there is one. None: a refusal, nothing rented.
 */
async function chooseVastStandby(deps: GpuDeps, gpu: VastOffer): Promise<VastOffer | undefined> {
  const p = deps.cfg.policy.standby;
  if (p.target !== "vast") return undefined;
  const r = p.vastStandby;
  const offers = (await deps.vast.searchCpuOffers({ ...r, diskGb: p.standbyDiskGb, limit: 64 })).filter((o) => o.id !== gpu.id);
  const chosen = chooseStandbyOffer(offers, r, p.standbyDiskGb, gpu.geolocation);
  if (!chosen) {
    throw new BlockedError(`standby.target is vast, but no Vast.ai host meets standby.vastStandby (>= ${r.cpuCoresMin} cores, >= ${r.ramGbMin} GB RAM, >= ${p.standbyDiskGb} GB disk, <= $${r.maxDphUsd}/h, reliability >= ${r.reliabilityMin}${r.cpuOnly ? ", no GPU (cpuOnly)" : ""}; ${offers.length} offers seen). Nothing was rented${r.cpuOnly ? "; setting standby.vastStandby.cpuOnly false also accepts hosts that come with a GPU" : ""}.`);
  }
  deps.say(`      standby host: offer ${chosen.offer.id}, ${chosen.offer.cpuCores} cores, ${Math.round(chosen.offer.ramGb)} GB RAM, $${chosen.offer.dphUsd.toFixed(4)}/h, ${chosen.offer.geolocation || "unknown location"}${chosen.sameContinent ? "" : " (none on the GPU's continent met the requirements)"}`);
  return chosen.offer;
}

export async function bootGpu(deps: GpuDeps, args: { offerId: number; pairId?: string }): Promise<Pair> {
  deps.say(`[1/4] checking ${`offer ${args.offerId}`} on Vast.ai`);
  const offer = await liveOffer(deps.vast, args.offerId);
  deps.say(`      ${describeOffer(offer)}`);
  const standbyOffer = await chooseVastStandby(deps, offer);
  const applier = await deps.applier();
  const applied = await applier.appliedDesired();
  const { standby, pair } = bootPair({ standby: applied.standby, offer, policy: deps.cfg.policy.standby, atIso: new Date(deps.now()).toISOString(), pairId: args.pairId, standbyOffer });
  deps.say(`[2/4] limits ok: pair ${pair.pairId}, standby: ${describeStandby(pair.standby)}`);
  deps.say(`[3/4] applying: GPU, ${pair.standby.target === "gcp" ? "standby VM, data disk, firewall" : "standby instance"}, sync unit`);
  await applyStandby(deps, applier, applied, standby, { area: "standby", kind: "scale", reason: `by hand: fleet gpu boot (${describeOffer(offer)}; standby: ${describeStandby(pair.standby)})`, from: null, to: pair.pairId });
  deps.say(`[4/4] pair ${pair.pairId} running: the GPU's ${deps.cfg.policy.standby.syncPaths.join(", ")} is copied to its standby every ${deps.cfg.policy.standby.syncIntervalSeconds} s`);
  if (deps.cfg.policy.standby.setupScript) await setupGpuHost(deps, pair.pairId);
  return pair;
}

/**
 * GPU boot setup: wait (bounded) until the new host answers ssh, then run the setup script on it,
 * reporting each step and the script's output. A host that never answers or a failing script is an
 * error; the pair stays (its standby holds the work), so the user can fix it and run the setup again.
 */
export async function setupGpuHost(deps: GpuDeps, pairId: string): Promise<void> {
  const p = deps.cfg.policy.standby;
  const script = fs.readFileSync(path.resolve(deps.cfg.root, p.setupScript!), "utf8");
  const inst = instanceOfPair(pairId, await deps.vast.showInstances());
  if (!inst?.sshHost || !inst.sshPort) throw new FleetError(`setup: Vast.ai shows no ssh address for pair ${pairId}'s GPU yet`);
  const ssh = deps.ssh ?? { wait: waitForSsh, run: sshRun };
  const target = gpuHostTarget(deps.cfg.root, { id: inst.id, sshHost: inst.sshHost, sshPort: inst.sshPort }, p.sshKeyFile);
  deps.say(`[setup] waiting for ssh on ${inst.sshHost}:${inst.sshPort} (up to ${p.sshWaitSeconds} s)`);
  const attempts = await ssh.wait(target, { timeoutMs: p.sshWaitSeconds * 1000, intervalMs: 5000, onAttempt: (n, last) => deps.say(`[setup]   attempt ${n}: ${last}`) }).catch((e) => {
    throw new FleetError(`setup: ${e instanceof Error ? e.message : String(e)}`);
  });
  deps.say(`[setup] ssh answered after ${attempts} attempt(s); running ${p.setupScript}`);
  // The remote command is a constant; the script (the user's own file) goes on stdin, never into a
  // command line; host, port and user were checked where Vast answered them and again by
  // checkTarget (test/unit/ssh-closed.test.ts, test/unit/hostile-values.test.ts).
  const r = await ssh.run(target, "bash -s", { timeoutMs: 30 * 60_000, input: script });
  for (const line of (r.stdout + r.stderr).split("\n").filter(Boolean).slice(-20)) deps.say(`[setup]   ${line}`);
  if (r.code !== 0) throw new FleetError(`setup: ${p.setupScript} exited ${r.code} on pair ${pairId}'s GPU`);
  deps.say(`[setup] done`);
}

/** The pair that owns a Vast instance (by its label), from the instance id. */
async function pairOfInstance(vast: VastClient, standby: DesiredStandby, instanceId: number): Promise<string> {
  const inst = (await vast.showInstances()).find((i) => i.id === instanceId);
  const parsed = parseVastLabel(inst?.label ?? null);
  if (!inst) throw new InputError("fleet gpu destroy", [{ field: "--instance", message: `Vast.ai has no instance ${instanceId} on this account; see \`fleet gpu status\`` }]);
  if (parsed?.role === "standby") throw new InputError("fleet gpu destroy", [{ field: "--instance", message: `instance ${instanceId} is pair ${parsed.pairId}'s standby, not a GPU: give the GPU's instance, or --pair ${parsed.pairId} to remove the pair` }]);
  const fromLabel = parsed?.pairId;
  if (!fromLabel || !standby.pairs.some((p) => p.pairId === fromLabel)) throw new InputError("fleet gpu destroy", [{ field: "--instance", message: `instance ${instanceId} (label ${inst.label ?? "none"}) belongs to no pair of stack's fleet; \`fleet sweep\` lists instances no stack knows` }]);
  return fromLabel;
}

/** Removes a pair: the GPU and its standby (VM and disk). Recorded first, so a failed apply is finished by the next cycle. */
export async function destroyGpu(deps: GpuDeps, args: { instanceId?: number; pairId?: string }): Promise<string> {
  const applier = await deps.applier();
  const applied = await applier.appliedDesired();
  const pairId = args.pairId ?? (await pairOfInstance(deps.vast, applied.standby, args.instanceId!));
  const next = removePair(applied.standby, pairId);
  deps.say(`[1/2] destroying pair ${pairId}: its GPU and its standby (VM and data disk) go`);
  deps.journal().recordEvent({ at: new Date(deps.now()).toISOString(), stack: deps.cfg.stack, area: "standby", kind: GPU_DESTROY_EVENT, detail: { pairId, instanceId: args.instanceId ?? null } });
  await applyStandby(deps, applier, applied, next, { area: "standby", kind: "destroy", reason: `by hand: fleet gpu destroy (pair ${pairId}${args.instanceId ? `, instance ${args.instanceId}` : ""})`, from: pairId, to: null });
  deps.say(`[2/2] pair ${pairId} destroyed`);
  return pairId;
}

/**
 * Restore: boot a new GPU for a gpu-lost pair (the offer given, else the cheapest meeting the pair's
 * requirements), let the stack pull the standby's copy onto it (the sync install restores before it
 * copies), and only then mark the pair running.
 */
export async function restoreGpu(deps: GpuDeps, args: { pairId: string; offerId?: number }): Promise<Pair> {
  const applier = await deps.applier();
  const applied = await applier.appliedDesired();
  const pair = findPair(applied.standby, args.pairId);
  if (pair.state === "running") throw new InputError("fleet gpu restore", [{ field: "--pair", message: `pair '${pair.pairId}' is running: its GPU is not lost` }]);
  deps.say(`[1/5] choosing a GPU for pair ${pair.pairId}`);
  let offer: VastOffer | undefined;
  if (args.offerId !== undefined) offer = await liveOffer(deps.vast, args.offerId);
  else {
    const req = deps.cfg.policy.standby.gpu;
    offer = chooseOffer(await deps.vast.searchOffers({ ...req, limit: 64 }), req);
    if (!offer) throw new BlockedError(`no Vast.ai offer meets the pair's requirements (gpu ${req.gpuName ?? "any"}, >= ${req.gpuRamMinGb} GB, <= $${req.maxDphUsd}/h, reliability >= ${req.reliabilityMin}): nothing was changed`);
  }
  deps.say(`      ${describeOffer(offer)}`);
  const restoring = restorePair({ standby: applied.standby, pairId: pair.pairId, offer, policy: deps.cfg.policy.standby, atIso: new Date(deps.now()).toISOString() });
  deps.say(`[2/5] limits ok; the standby (${describeStandby(pair.standby)}) keeps its copy`);
  deps.say(`[3/5] booting the GPU and pulling the standby's copy onto it (the sync starts only after the pull)`);
  await applyStandby(deps, applier, applied, restoring.standby, { area: "standby", kind: "switch", reason: `by hand: fleet gpu restore (pair ${pair.pairId} onto ${describeOffer(offer)})`, from: pair.gpu?.offerId ?? null, to: offer.id });
  deps.say(`[4/5] restored: the new GPU has the standby's copy`);
  const afterRestore = await applier.appliedDesired();
  const running = markRunning(afterRestore.standby, pair.pairId, new Date(deps.now()).toISOString());
  await applyStandby(deps, applier, afterRestore, running, { area: "standby", kind: "keep", reason: `pair ${pair.pairId}: restore finished, pair running`, from: "restoring", to: "running" });
  deps.say(`[5/5] pair ${pair.pairId} running`);
  return restoring.pair;
}

export interface PairStatus {
  pairId: string;
  state: Pair["state"];
  gpu: { offerId: number | null; gpuName: string | null; dphUsd: number | null; instanceId: number | null; status: string | null; sshHost: string | null; sshPort: number | null; startedAt: string | null };
  /** Where the standby is; a Vast standby also as Vast shows it. */
  standby: StandbyPlace & { instanceId?: number | null; status?: string | null };
  lastSyncAt: string | null;
  costSoFarUsd: number;
}

/**
 * Each pair with its GPU as Vast shows it (when a client is given), the last sync (read from the
 * GPU host by `lastSync`, null when it cannot be read) and the GPU spend the journal recorded.
 */
export async function gpuStatus(args: { cfg: StackConfig; standby: DesiredStandby; vast: VastClient | null; journal: Journal | null; now: number; lastSync?: (i: VastInstance) => Promise<string | null> }): Promise<{ pairs: PairStatus[]; vast: "ok" | "no-key" | string; unmanaged: number[] }> {
  let instances: VastInstance[] = [];
  let vastState = args.vast ? "ok" : "no-key";
  if (args.vast) {
    try {
      instances = await args.vast.showInstances();
    } catch (e) {
      vastState = e instanceof VastError ? e.message : String(e);
    }
  }
  const nowIso = new Date(args.now).toISOString();
  const lifetimes = args.journal ? args.journal.lifetimesBetween(args.cfg.stack, "1970-01-01T00:00:00.000Z", nowIso).filter((l) => l.area === "standby") : [];
  const pairs = await Promise.all(
    args.standby.pairs.map(async (p): Promise<PairStatus> => {
      const inst = instanceOfPair(p.pairId, instances);
      const standbyInst = p.standby.target === "vast" ? instanceOfPair(p.pairId, instances, "standby") : undefined;
      const mine = lifetimes.filter((l) => l.name.startsWith(`gpu-${p.pairId}-`) || l.name.startsWith(`standby-${p.pairId}-`));
      return {
        pairId: p.pairId,
        state: p.state,
        gpu: { offerId: p.gpu?.offerId ?? null, gpuName: p.gpu?.gpuName ?? null, dphUsd: p.gpu?.dphUsd ?? null, instanceId: inst?.id ?? null, status: inst?.status ?? null, sshHost: inst?.sshHost ?? null, sshPort: inst?.sshPort ?? null, startedAt: inst?.startedAt ?? null },
        standby: p.standby.target === "vast" ? { ...p.standby, instanceId: standbyInst?.id ?? null, status: standbyInst?.status ?? null } : p.standby,
        lastSyncAt: inst && args.lastSync ? await args.lastSync(inst).catch(() => null) : null,
        costSoFarUsd: Math.round(spendUsd(mine, 0, args.now) * 10_000) / 10_000,
      };
    }),
  );
  const known = new Set(args.standby.pairs.flatMap((p) => [pairLabel(p.pairId), ...(p.standby.target === "vast" ? [standbyLabel(p.pairId)] : [])]));
  const unmanaged = instances.filter((i) => !known.has(i.label ?? "")).map((i) => i.id);
  return { pairs, vast: vastState, unmanaged };
}
