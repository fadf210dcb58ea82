// What the real-engine tests share: finding the engine (a missing one fails under
// FLEET_REQUIRE_PULUMI=1, as CI sets), a private file backend, the `fleet` CLI spawned from the
// project root as a user runs it, and the stack's state read back through `pulumi stack export`.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findPulumiCli } from "../../reconciler/engine";
import { REPO } from "../helpers";

/** Why the engine tests cannot run here, or false. */
/**
 * How long one engine test file may run before it counts as hung. A guard, not a speed target: the
 * files run four at a time on two cores, and on a busy machine the hpc file alone took over 15
 * minutes (CI of 76ca9cf). Speed is measured by the README's timing, not asserted here.
 */
export const ENGINE_FILE_TIMEOUT_MS = 40 * 60_000;

export function engineSkipReason(): string | false {
  if (findPulumiCli()) return false;
  const why = "the Pulumi CLI is not on PATH (bash scripts/engine/build.sh builds it into .pulumi-engine/bin)";
  if (process.env.FLEET_REQUIRE_PULUMI === "1") throw new Error(`${why}; FLEET_REQUIRE_PULUMI=1 requires it`);
  return why;
}

export interface EngineEnv {
  env: Record<string, string>;
  stateDir: string;
}

/** A private file backend and passphrase, so tests never touch the user's stacks. */
export function engineEnv(): EngineEnv {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-engine-state-"));
  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: "fleet-engine-test",
    PULUMI_SKIP_UPDATE_CHECK: "1",
  };
  return { env, stateDir };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns `fleet` in the project root; `onStart` gets the child (to kill it). */
export function fleet(args: string[], env: Record<string, string>, onStart?: (c: ChildProcess) => void): Promise<CliResult> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(full)) if (k.startsWith("FLEET_") && !(k in env)) delete full[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, "scripts", "fleet.cjs"), ...args], { cwd: REPO, env: full });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    onStart?.(child);
  });
}

export interface StackState {
  resources: { urn: string; type: string; id?: string }[];
  pending: { type: string; urn: string }[];
}

export function stackState(stack: string, env: Record<string, string>): StackState {
  const out = execFileSync("pulumi", ["stack", "export", "--stack", stack], { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8" });
  const d = JSON.parse(out).deployment ?? {};
  return {
    resources: (d.resources ?? []).map((r: { urn: string; type: string; id?: string }) => ({ urn: r.urn, type: r.type, id: r.id })),
    pending: (d.pending_operations ?? []).map((p: { type: string; resource: { urn: string } }) => ({ type: p.type, urn: p.resource.urn })),
  };
}

/** Resolves when `probe` is true (polled), or rejects after `ms`. */
export async function waitFor(probe: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pids of the processes whose command line contains `needle`, children of `parent` when given. */
export function processes(needle: string, parent?: number): number[] {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => !!m && m[3]!.includes(needle) && (parent === undefined || Number(m[2]) === parent))
    .map((m) => Number(m[1]));
}
