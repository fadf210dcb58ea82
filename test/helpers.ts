import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FleetPolicySchema, SignalsSchema, type FleetPolicy, type PressureSample, type PriceRecord, type Signals, type SignalsInput } from "../reconciler/model";

export const REPO = path.resolve(__dirname, "..");
export const SHARED_DATA = path.resolve(REPO, "..", "shared", "data");

export function policy(over: Record<string, unknown> = {}): FleetPolicy {
  return FleetPolicySchema.parse(over);
}

/** n samples one minute apart ending at `at`, all at memPct. */
export function samples(at: string, mems: number[], swap = 0): PressureSample[] {
  const end = Date.parse(at);
  return mems.map((m, i) => ({ at: new Date(end - (mems.length - 1 - i) * 60_000).toISOString(), memUsedPct: m, swapUsedPct: swap }));
}

export function price(over: Partial<PriceRecord> = {}): PriceRecord {
  return { provider: "gcp", region: "us-central1", zone: "", machineType: "e2-standard-4", vcpu: 4, ramGb: 16, spotHourUsd: 0.04, onDemandHourUsd: 0.134, ...over };
}

export function signals(over: Partial<SignalsInput> & { mems?: number[] } = {}): Signals {
  const at = over.at ?? "2026-11-22T12:00:00.000Z";
  const { mems, ...rest } = over;
  return SignalsSchema.parse({
    at,
    pressure: { samples: samples(at, mems ?? [50, 50, 50]) },
    prices: [price()],
    budget: { spentTodayUsd: 0 },
    actual: { burst: [] },
    ...rest,
  });
}

/** A throwaway project directory: Pulumi.yaml plus Pulumi.<stack>.yaml with the given config. */
export function tempProject(stackYaml: string, stack = "test"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-test-"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: fleet\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackYaml);
  return dir;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a spawned `fleet`: FLEET_* variables only as given, and no Pulumi engine on
 * PATH unless `engine` (what the engine does is tested in test/engine; these tests are about the rest).
 */
function fleetEnv(opts: { env?: Record<string, string>; engine?: boolean }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  for (const k of Object.keys(env)) if (k.startsWith("FLEET_") && !(opts.env && k in opts.env)) delete env[k];
  if (!opts.engine && !(opts.env && "PATH" in opts.env)) {
    env.PATH = (env.PATH ?? "").split(path.delimiter).filter((d) => d && !fs.existsSync(path.join(d, "pulumi"))).join(path.delimiter);
  }
  return env;
}

/** Runs the real `fleet` command in a directory, as a user would. */
export function runFleet(args: string[], opts: { cwd: string; env?: Record<string, string>; engine?: boolean }): RunResult {
  const env = fleetEnv(opts);
  const r = spawnSync(process.execPath, [path.join(REPO, "scripts", "fleet.cjs"), ...args], { cwd: opts.cwd, env, encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** runFleet without blocking the event loop (for tests whose doubles serve HTTP in this process). */
export function runFleetAsync(args: string[], opts: { cwd: string; env?: Record<string, string>; engine?: boolean }): Promise<RunResult> {
  const env = fleetEnv(opts);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, "scripts", "fleet.cjs"), ...args], { cwd: opts.cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * The CLI run in this process (scripts/fleet.ts `main`, what the `fleet` command runs) with its
 * output captured: the same parsing, checks, messages and exit codes as the spawned command, without
 * a Node.js start per run. For tests of flags, input checks and messages; spawn (runFleet) where the
 * process boundary is what is tested. One at a time: it changes the directory and the environment
 * (FLEET_* only as given, as runFleet does).
 */
export async function runFleetInProcess(args: string[], opts: { cwd: string; env?: Record<string, string>; engine?: boolean }): Promise<RunResult> {
  const { main } = await import("../scripts/fleet");
  const saved = { cwd: process.cwd(), env: { ...process.env }, out: process.stdout.write, err: process.stderr.write };
  let stdout = "";
  let stderr = "";
  process.chdir(opts.cwd);
  // The environment a spawned `fleet` would get (fleetEnv: FLEET_* only as given, no engine unless asked).
  const env = fleetEnv(opts);
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  Object.assign(process.env, env);
  // The CLI writes strings; node:test's child-to-runner protocol writes binary (its v8 serializer)
  // on the same stdout, and must pass through or the runner loses test results.
  const capture = (stream: NodeJS.WriteStream, original: typeof process.stdout.write, add: (s: string) => void) =>
    ((c: string | Uint8Array, ...rest: unknown[]) =>
      typeof c === "string" ? (add(c), true) : (original as (...a: unknown[]) => boolean).call(stream, c, ...rest)) as typeof process.stdout.write;
  process.stdout.write = capture(process.stdout, saved.out, (c) => (stdout += c));
  process.stderr.write = capture(process.stderr, saved.err, (c) => (stderr += c));
  process.exitCode = undefined;
  try {
    const code = await main(["node", "fleet", ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = undefined;
    process.chdir(saved.cwd);
    for (const k of Object.keys(process.env)) if (!(k in saved.env)) delete process.env[k];
    Object.assign(process.env, saved.env);
  }
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return file;
}
