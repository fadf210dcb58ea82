import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, ConcurrentUpdateError, LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";
import { DESIRED_OUTPUT, writeAppliedMirror } from "../config/applied";
import { problemsFromZod } from "../config/issues";
import { loadStackConfig, type StackConfig } from "../config/load";
import { findPulumiCli } from "../engine";
import { EngineMissingError, InputError } from "../errors";
import { DesiredFleetSchema, EMPTY_DESIRED, type DesiredFleet } from "../model";
import { EngineEventReader, failureCause, mandatoryViolations, resourceName, stripColors, type EngineRun } from "./events";
import { ensureProgramTypeChecked } from "./typecheck";
import { engineLocks, planPendingCreates, staleLocks, undoLibvirtCreate, type PendingOperation } from "./recovery";
import { EngineRunError, LimitsBrokenError, PendingOperationsError, PolicyBlockedError, StackBusyError } from "./types";
import { limitViolations } from "../limits";
import { withStackLock } from "../lock";
import type { Applier, PreviewSummary, ResourceChange, ResourceProgress, UpSummary } from "./types";

/**
 * The Applier over the Pulumi Automation API, for the project in the repo root (a local program,
 * not an inline one: CI's `pulumi up` and the reconciler run the same code). The only module that
 * imports @pulumi/pulumi/automation.
 */
export async function openAutomationApplier(cfg: StackConfig, what: string, env: NodeJS.ProcessEnv = process.env): Promise<AutomationApplier> {
  if (!findPulumiCli(env)) throw new EngineMissingError(what);
  const secrets = missingSecretsProvider(env);
  if (secrets) throw new InputError(what, [secrets]);
  const stateDir = path.join(cfg.root, ".fleet", "state");
  const backend = env.PULUMI_BACKEND_URL ?? `file://${stateDir}`;
  if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true, mode: 0o700 });
  // Type-checked once per version of the program here; the engine then transpiles only (typecheck.ts).
  await ensureProgramTypeChecked(cfg.root);
  const envVars: Record<string, string> = { PULUMI_BACKEND_URL: backend, PULUMI_NODEJS_TRANSPILE_ONLY: "true" };
  for (const k of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) if (env[k]) envVars[k] = env[k]!;
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: cfg.stack, workDir: cfg.root }, { envVars });
  const applier = new AutomationApplier(cfg, stack, backend);
  applier.removeStaleLocks();
  return applier;
}

/** The stack's secrets need a passphrase unless a Pulumi Cloud backend holds them. */
export function missingSecretsProvider(env: NodeJS.ProcessEnv = process.env): { field: string; message: string } | null {
  if (env.PULUMI_CONFIG_PASSPHRASE || env.PULUMI_CONFIG_PASSPHRASE_FILE || env.PULUMI_BACKEND_URL?.startsWith("https://")) return null;
  return { field: "PULUMI_CONFIG_PASSPHRASE", message: "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for the stack's secrets provider" };
}

const POLICY_PACK = "policies";
/** The project name in Pulumi.yaml; the file backend keys its locks and stacks by it. */
const PROJECT = "fleet";

export class AutomationApplier implements Applier {
  constructor(
    private readonly cfg: StackConfig,
    private readonly stack: Stack,
    private readonly backendUrl: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`fleet: ${line}\n`),
  ) {}

  /**
   * The engine's lock of an update whose pulumi process was killed stays behind and refuses every
   * later update. Remove it when that process is gone from this host; never a live or remote one.
   */
  removeStaleLocks(): void {
    for (const lock of staleLocks(engineLocks(this.backendUrl, PROJECT, this.cfg.stack))) {
      fs.rmSync(lock.file, { force: true });
      fs.rmSync(`${lock.file}.attrs`, { force: true }); // the blob store's metadata beside it
      this.log(`removed the engine lock of pulumi pid ${lock.pid} (started ${lock.timestamp}), which no longer runs`);
    }
  }

  private get ws(): LocalWorkspace {
    return this.stack.workspace as LocalWorkspace;
  }

  /**
   * The fleet the stack's last update applied: its `fleetDesired` output in the backend (the one
   * source of truth, config/applied.ts); before the first update, `fleet:desired` from the stack file.
   * Mirrored locally for reads that do not open the engine.
   */
  async appliedDesired(): Promise<DesiredFleet> {
    return this.appliedFrom(await this.lastUpdateDesired());
  }

  /** The applied fleet given what the last update applied (else the stack file's), mirrored locally. */
  private appliedFrom(last: DesiredFleet | undefined): DesiredFleet {
    const desired = last ?? loadStackConfig(this.cfg.root, this.cfg.stack).desired;
    writeAppliedMirror(this.cfg.root, this.cfg.stack, desired);
    return desired;
  }

  /** What the stack's last update applied (its output), or undefined before the first update. */
  private async lastUpdateDesired(): Promise<DesiredFleet | undefined> {
    const out = (await this.stack.outputs())[DESIRED_OUTPUT];
    if (typeof out?.value !== "string") return undefined;
    const parsed = DesiredFleetSchema.safeParse(JSON.parse(out.value));
    if (!parsed.success) throw new InputError("the stack's applied fleet", problemsFromZod(`stack ${this.cfg.stack}: output ${DESIRED_OUTPUT}`, parsed.error));
    return parsed.data;
  }

  async stackVersion(): Promise<number> {
    const history = await this.stack.history(1);
    return history[0]?.version ?? 0;
  }

  async pendingOperations(): Promise<string[]> {
    return (await this.pending()).map((p) => p.resource.urn);
  }

  private async pending(): Promise<PendingOperation[]> {
    const state = await this.stack.exportStack();
    return (state.deployment as { pending_operations?: PendingOperation[] }).pending_operations ?? [];
  }

  /**
   * Drift: a preview of the applied desired fleet with a refresh first (`pulumi preview --refresh`).
   * Any step is drift: the real world differs from the state (a domain stopped or deleted by hand, a
   * preempted VM) or the state lacks what the program declares (after `fleet recover`, or a change
   * of Fleet's own code). A refresh alone would miss the second kind.
   */
  async refreshPreview(): Promise<ResourceChange[]> {
    const what = "the drift check (pulumi preview --refresh)";
    const { run } = await engineRun("preview", what, (onEvent) => this.stack.preview({ refresh: true, onEvent }));
    return run.changes;
  }

  /** Runs `fn` with the candidate handed to the program through FLEET_DESIRED_FILE (no config is written). */
  /**
   * Runs `fn` with the program declaring `desired`; `recordedAs`, when given, is what the program
   * exports as the applied fleet instead (recording a failed update's fleet back without changing
   * what it declares, see recordApplied).
   */
  private async withCandidate<T>(desired: DesiredFleet, fn: () => Promise<T>, recordedAs?: DesiredFleet): Promise<T> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-desired-"));
    const file = path.join(dir, "desired.json");
    fs.writeFileSync(file, JSON.stringify(desired), { mode: 0o600 });
    this.ws.envVars.FLEET_DESIRED_FILE = file;
    if (recordedAs) {
      fs.writeFileSync(path.join(dir, "recorded.json"), JSON.stringify(recordedAs), { mode: 0o600 });
      this.ws.envVars.FLEET_RECORDED_DESIRED_FILE = path.join(dir, "recorded.json");
    }
    try {
      return await fn();
    } finally {
      delete this.ws.envVars.FLEET_DESIRED_FILE;
      delete this.ws.envVars.FLEET_RECORDED_DESIRED_FILE;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async preview(desired: DesiredFleet): Promise<PreviewSummary> {
    return this.withCandidate(desired, async () => {
      const { value, run } = await engineRun("preview", "the preview", (onEvent) => this.stack.preview({ policyPacks: [this.policyPack], onEvent }));
      return { counts: value.changeSummary as Record<string, number>, changes: run.changes, policy: run.policy };
    });
  }

  /**
   * Updates the stack to `desired`. The program exports it as `fleetDesired`, so a successful update
   * records it in the backend with the resources; nothing is written to the stack file.
   */
  withLock<T>(f: () => Promise<T>): Promise<T> {
    return withStackLock(this.cfg.root, this.cfg.stack, f);
  }

  async up(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    // Every applying path comes through here: one lock per stack (re-entrant for the reconciler that
    // already holds it), and the policy's limits re-checked on what is about to be applied.
    return withStackLock(this.cfg.root, this.cfg.stack, () => this.lockedUp(desired, onProgress));
  }

  private async lockedUp(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    // An update over pending creates would make those objects again ("already exists"): recover first.
    const pending = await this.pendingOperations();
    if (pending.length) throw new PendingOperationsError(pending);
    // One read of the stack's outputs: the applied fleet, and the baseline of the limits, which judge
    // what this update adds to what really runs (before the first update nothing does: a
    // hand-written fleet:desired is not running yet).
    const last = await this.lastUpdateDesired();
    const before = this.appliedFrom(last);
    const broken = limitViolations(desired, this.cfg.policy, last ?? EMPTY_DESIRED);
    if (broken.length) throw new LimitsBrokenError(broken);
    try {
      const opts = { refresh: true, policyPacks: [this.policyPack] };
      const { value: r, run } = await this.withCandidate(desired, () => engineRun("update", "the update", (onEvent) => this.stack.up({ ...opts, onEvent }), onProgress));
      writeAppliedMirror(this.cfg.root, this.cfg.stack, desired);
      const outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
      return { counts: (r.summary.resourceChanges ?? {}) as Record<string, number>, changes: run.changes, outputs };
    } catch (e) {
      try {
        if (!(e instanceof StackBusyError)) await this.rollbackNewCluster(before, desired);
      } catch (rollback) {
        const why = rollback instanceof Error ? rollback.message : String(rollback);
        this.log(`the new hpc cluster could not be rolled back (${why}); \`fleet recover\` works from what the state records`);
      }
      if (!(e instanceof StackBusyError)) {
        // A failed update still records its fleet as the stack's output; the applied fleet is the one before.
        // Declaring the failed update's fleet works when it created things; declaring the fleet
        // before works when it only removed some (the engine refuses untargeted deletes either way).
        await this.recordApplied(before, desired).catch(() => this.recordApplied(before, before)).catch((re: unknown) => this.log(`could not record the applied fleet back (${re instanceof Error ? re.message.replace(/\n\s*/g, " ").trim() : String(re)}); \`fleet drift\` shows what differs`));
      }
      await this.appliedDesired().catch(() => undefined); // the mirror follows what the backend holds now
      throw e;
    }
  }

  /**
   * Records `desired` as the applied fleet without touching any resource: an update that targets only
   * the stack itself, so only its outputs change (checked on the engine: no other step runs). The
   * program keeps declaring `declared` (the failed update's fleet): declaring `desired` instead made
   * the engine refuse, since what the failed update did create would then be deleted outside the
   * target list (found on the engine: a `gpu boot` whose sync install failed). The next cycle starts
   * from `desired` and removes what the failed update left, through the usual limits.
   */
  private async recordApplied(desired: DesiredFleet, declared: DesiredFleet = desired): Promise<void> {
    const stackUrn = `urn:pulumi:${this.cfg.stack}::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-${this.cfg.stack}`;
    await this.withCandidate(declared, () => engineRun("update", "recording the applied fleet", (onEvent) => this.stack.up({ target: [stackUrn], onEvent })), desired);
  }

  private get policyPack(): string {
    return path.join(this.cfg.root, POLICY_PACK);
  }

  /** A new hpc cluster that failed part-way is removed whole: nothing the attempt made stays. */
  private async rollbackNewCluster(before: DesiredFleet, desired: DesiredFleet): Promise<void> {
    if (before.hpc || !desired.hpc) return;
    this.removeStaleLocks();
    if ((await this.pending()).length) return; // a killed engine: `fleet recover` first
    const state = await this.stack.exportStack();
    const resources = ((state.deployment as { resources?: { urn: string; type: string }[] }).resources ?? []).filter(
      (r) => r.type === "fleet:hpc:HpcCluster" || r.type.startsWith("pulumi-nodejs:dynamic/fleet:Libvirt"),
    );
    if (!resources.length) return;
    const target = resources.map((r) => r.urn);
    await engineRun("update", "the rollback of the new cluster", (onEvent) => this.stack.destroy({ target, targetDependents: true, onEvent }));
  }

  async cancel(): Promise<void> {
    await this.stack.cancel();
  }

  /**
   * `fleet recover`: after an interrupted update, remove a stale engine lock, undo what in-flight
   * libvirt creates made, clear the pending creates from the state, and refresh. Returns the URNs
   * that were pending; `cleared` are cloud resources that may exist outside the state (`fleet sweep`).
   */
  async recover(): Promise<string[]> {
    return withStackLock(this.cfg.root, this.cfg.stack, () => this.lockedRecover());
  }

  private async lockedRecover(): Promise<string[]> {
    this.removeStaleLocks();
    const pending = await this.pending();
    if (!pending.length) return [];
    const { undo, clears } = planPendingCreates(pending);
    for (const u of undo) {
      await undoLibvirtCreate(u);
      this.log(`undid the interrupted create of ${resourceName(u.urn)} (${u.type.split(":").pop()} ${u.id})`);
    }
    for (const urn of clears) this.log(`cleared the pending create of ${resourceName(urn)}: if it was made, \`fleet sweep\` finds it`);
    await engineRun("refresh", "the refresh of fleet recover", (onEvent) => this.stack.refresh({ clearPendingCreates: true, onEvent }));
    return pending.map((p) => p.resource.urn);
  }
}

/**
 * Runs one engine operation with an event reader. Failures become typed errors carrying the cause
 * the engine reported: another update holds the stack (StackBusyError), mandatory policy violations
 * (PolicyBlockedError, exit 4), anything else (EngineRunError, exit 1: the compile error, the
 * failing resource and its message).
 */
export async function engineRun<T>(
  kind: "preview" | "update" | "refresh",
  what: string,
  fn: (onEvent: (e: EngineEvent) => void) => Promise<T>,
  onProgress?: (p: ResourceProgress) => void,
): Promise<{ value: T; run: EngineRun }> {
  const reader = new EngineEventReader(kind, onProgress);
  try {
    return { value: await fn(reader.onEvent), run: reader.result() };
  } catch (e) {
    if (e instanceof ConcurrentUpdateError) throw new StackBusyError(`another update holds the stack: ${e.message.split("\n")[0]}`);
    const run = reader.result();
    const blocked = mandatoryViolations(run);
    if (blocked.length) throw new PolicyBlockedError(what, blocked, run);
    throw new EngineRunError(what, failureCause(run, commandErrorCause(e)), run);
  }
}

/** The engine's own error lines from a failed CLI call that emitted no error event (bad passphrase, bad backend). */
export function commandErrorCause(e: unknown): string {
  const stderr = e instanceof CommandError ? String((e as unknown as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? "") : "";
  const lines = stripColors(stderr).split("\n").map((l) => l.trim()).filter((l) => /^error:/i.test(l));
  if (lines.length) return lines.join("\n");
  return (e instanceof Error ? e.message : String(e)).split("\n").find((l) => l.trim()) ?? "unknown engine failure";
}
