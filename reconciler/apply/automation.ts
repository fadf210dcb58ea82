import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CommandError, ConcurrentUpdateError, LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation";
import { loadStackConfig, DESIRED_KEY, type StackConfig } from "../config/load";
import { findPulumiCli } from "../engine";
import { EngineMissingError, InputError } from "../errors";
import type { DesiredFleet } from "../model";
import { EngineEventReader, failureCause, mandatoryViolations, stripColors, type EngineRun } from "./events";
import { EngineRunError, PolicyBlockedError, StackBusyError } from "./types";
import type { Applier, PreviewSummary, ResourceChange, ResourceProgress, UpSummary } from "./types";

/**
 * The Applier over the Pulumi Automation API, for the project in the repo root (a local program,
 * not an inline one: CI's `pulumi up` and the reconciler run the same code). The only module that
 * imports @pulumi/pulumi/automation.
 */
export async function openAutomationApplier(cfg: StackConfig, what: string, env: NodeJS.ProcessEnv = process.env): Promise<AutomationApplier> {
  if (!findPulumiCli(env)) throw new EngineMissingError(what);
  if (!env.PULUMI_CONFIG_PASSPHRASE && !env.PULUMI_CONFIG_PASSPHRASE_FILE && !env.PULUMI_BACKEND_URL?.startsWith("https://")) {
    throw new InputError(what, [{ field: "PULUMI_CONFIG_PASSPHRASE", message: "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) for the stack's secrets provider" }]);
  }
  const stateDir = path.join(cfg.root, ".fleet", "state");
  const backend = env.PULUMI_BACKEND_URL ?? `file://${stateDir}`;
  if (backend.startsWith("file://")) fs.mkdirSync(backend.slice("file://".length), { recursive: true });
  const envVars: Record<string, string> = { PULUMI_BACKEND_URL: backend };
  for (const k of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"]) if (env[k]) envVars[k] = env[k]!;
  const stack = await LocalWorkspace.createOrSelectStack({ stackName: cfg.stack, workDir: cfg.root }, { envVars });
  return new AutomationApplier(cfg, stack);
}

const POLICY_PACK = "policies";

export class AutomationApplier implements Applier {
  constructor(private readonly cfg: StackConfig, private readonly stack: Stack) {}

  private get ws(): LocalWorkspace {
    return this.stack.workspace as LocalWorkspace;
  }

  async appliedDesired(): Promise<DesiredFleet> {
    return loadStackConfig(this.cfg.root, this.cfg.stack).desired;
  }

  async stackVersion(): Promise<number> {
    const history = await this.stack.history(1);
    return history[0]?.version ?? 0;
  }

  async pendingOperations(): Promise<string[]> {
    const state = await this.stack.exportStack();
    const pending = (state.deployment as { pending_operations?: { resource: { urn: string } }[] }).pending_operations ?? [];
    return pending.map((p) => p.resource.urn);
  }

  async refreshPreview(): Promise<ResourceChange[]> {
    const { run } = await engineRun("refresh", "the drift check (pulumi refresh --preview-only)", (onEvent) => this.stack.previewRefresh({ onEvent }));
    return run.changes;
  }

  async preview(desired: DesiredFleet): Promise<PreviewSummary> {
    // The candidate reaches the program through FLEET_DESIRED_FILE, so previewing writes no config.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-preview-"));
    const file = path.join(dir, "desired.json");
    fs.writeFileSync(file, JSON.stringify(desired), { mode: 0o600 });
    this.ws.envVars.FLEET_DESIRED_FILE = file;
    try {
      const { value, run } = await engineRun("preview", "the preview", (onEvent) => this.stack.preview({ policyPacks: [this.policyPack], onEvent }));
      return { counts: value.changeSummary as Record<string, number>, changes: run.changes, policy: run.policy };
    } finally {
      delete this.ws.envVars.FLEET_DESIRED_FILE;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async up(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    const before = await this.appliedDesired();
    await this.stack.setConfig(DESIRED_KEY, { value: JSON.stringify(desired) });
    try {
      const opts = { refresh: true, policyPacks: [this.policyPack] };
      const { value: r, run } = await engineRun("update", "the update", (onEvent) => this.stack.up({ ...opts, onEvent }), onProgress);
      const outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
      return { counts: (r.summary.resourceChanges ?? {}) as Record<string, number>, changes: run.changes, outputs };
    } catch (e) {
      if (!(e instanceof StackBusyError)) await this.rollbackNewCluster(before, desired);
      await this.stack.setConfig(DESIRED_KEY, { value: JSON.stringify(before) });
      throw e;
    }
  }

  private get policyPack(): string {
    return path.join(this.cfg.root, POLICY_PACK);
  }

  /** A new hpc cluster that failed part-way is removed whole: nothing the attempt made stays. */
  private async rollbackNewCluster(before: DesiredFleet, desired: DesiredFleet): Promise<void> {
    if (before.hpc || !desired.hpc) return;
    const state = await this.stack.exportStack();
    const resources = ((state.deployment as { resources?: { urn: string; type: string }[] }).resources ?? []).filter(
      (r) => r.type === "fleet:hpc:HpcCluster" || r.type.startsWith("pulumi-nodejs:dynamic/fleet:Libvirt"),
    );
    if (resources.length) await this.stack.destroy({ target: resources.map((r) => r.urn), targetDependents: true });
  }

  async cancel(): Promise<void> {
    await this.stack.cancel();
  }

  /** `fleet recover`: clear pending operations left by an interrupted update, then refresh. */
  async recover(): Promise<string[]> {
    const urns = await this.pendingOperations();
    if (urns.length) await this.stack.refresh({ clearPendingCreates: true });
    return urns;
  }
}

/**
 * Runs one engine operation with an event reader. Failures become typed errors carrying the cause
 * the engine reported: another update holds the stack (StackBusyError), mandatory policy violations
 * (PolicyBlockedError, exit 4), anything else (EngineRunError, exit 1: the compile error, the
 * failing resource and its message).
 */
async function engineRun<T>(
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
