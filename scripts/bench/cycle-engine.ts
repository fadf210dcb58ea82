import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findPulumiCli } from "../../reconciler/engine";
import { median, type Figure } from "./measure";

/**
 * cycle.engine.nodrift.s: median wall time of `fleet reconcile --once --mode auto` on an empty, applied
 * fleet with the real engine (what a scheduled tick costs when nothing changed: the CLI, signals,
 * and the drift check `pulumi preview --refresh` with the language host compiling the program).
 * Also the parts: the engine's preview of the empty stack alone. Private state; nothing is kept.
 */
export async function benchCycleEngine(): Promise<Figure[]> {
  const root = path.resolve(__dirname, "..", "..");
  const bin = path.join(root, ".pulumi-engine", "bin");
  const PATH = fs.existsSync(path.join(bin, "pulumi")) ? `${bin}${path.delimiter}${process.env.PATH}` : process.env.PATH;
  if (!findPulumiCli({ PATH })) throw new Error("skipped: no Pulumi CLI (bash scripts/engine/build.sh)");
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-state-"));
  const stack = `bench-${process.pid}`;
  const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
  const journal = path.join(state, "journal.db");
  fs.writeFileSync(stackFile, `config:\n  fleet:policy:\n    journal:\n      path: ${journal}\n`);
  const env = { ...process.env, PATH, PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "bench", PULUMI_SKIP_UPDATE_CHECK: "1" };
  const timed = (cmd: string, args: string[]) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: root, env, encoding: "utf8", timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${(r.stderr || r.stdout).slice(0, 400)}`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const fleet = (...args: string[]) => timed(process.execPath, [path.join(root, "scripts", "fleet.cjs"), "--stack", stack, ...args]);
  try {
    fleet("apply", "--applied"); // the empty fleet applied once: from here on nothing changes
    const cycles = [0, 1, 2].map(() => fleet("reconcile", "--once", "--mode", "auto"));
    const previews = [0, 1, 2].map(() => timed("pulumi", ["preview", "--refresh", "--stack", stack, "--non-interactive"]));
    return [
      { name: "cycle.engine.nodrift.s", value: median(cycles), unit: "s" },
      { name: "cycle.engine.preview_refresh.s", value: median(previews), unit: "s" },
    ];
  } finally {
    fs.rmSync(stackFile, { force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}
