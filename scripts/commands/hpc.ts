import * as fs from "node:fs";
import * as readline from "node:readline";
import { parse as parseYaml } from "yaml";
import { stackContext } from "../../reconciler/context";
import { EXIT, InputError } from "../../reconciler/errors";
import { problemsFromZod } from "../../reconciler/config/issues";
import { gatherClusterFacts } from "../../reconciler/hpc/facts";
import { clusterProblems } from "../../reconciler/hpc/layout";
import { readClusterStatus } from "../../reconciler/hpc/status";
import { HpcSpecSchema, type HpcSpec } from "../../reconciler/model";
import { applyByHand } from "../../reconciler/loop";
import { openApplier, openJournal } from "./engine";
import { table } from "./table";
import { INPUT_LIMITS, readInputFile } from "../../reconciler/config/input-file";

/** The cluster spec: from --spec FILE (JSON or YAML), else the stack's applied desired.hpc. */
export function loadHpcSpec(stack: string, specFile?: string): HpcSpec {
  if (!specFile) {
    const cfg = stackContext(stack);
    if (!cfg.desired.hpc) throw new InputError("hpc", [{ field: `${cfg.file}: fleet:desired.hpc`, message: "this stack has no hpc cluster; pass --spec FILE or run `fleet hpc up --spec FILE`" }]);
    return cfg.desired.hpc;
  }
  let raw: unknown;
  try {
    const text = readInputFile(specFile, { field: "--spec", maxBytes: INPUT_LIMITS.spec, gzip: false });
    raw = specFile.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError("--spec", [{ field: specFile, message: `cannot read or parse: ${(e as Error).message.split("\n")[0]}` }]);
  }
  const r = HpcSpecSchema.safeParse(raw);
  if (!r.success) throw new InputError(`cluster spec ${specFile}`, problemsFromZod("hpc", r.error));
  return r.data;
}

export async function hpcValidateCommand(opts: { stack: string; spec?: string; json?: boolean }): Promise<number> {
  const spec = loadHpcSpec(opts.stack, opts.spec);
  const problems = clusterProblems(spec, await gatherClusterFacts(spec));
  if (opts.json) process.stdout.write(JSON.stringify({ valid: problems.length === 0, problems }, null, 2) + "\n");
  if (problems.length) throw new InputError(`cluster ${spec.name}`, problems);
  if (!opts.json) process.stdout.write(`cluster ${spec.name}: valid (1 controller + ${spec.compute.count} compute nodes on ${spec.uri})\n`);
  return EXIT.ok;
}

export async function hpcStatusCommand(opts: { stack: string; spec?: string; json?: boolean }): Promise<number> {
  const spec = loadHpcSpec(opts.stack, opts.spec);
  const status = await readClusterStatus(spec);
  if (opts.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + "\n");
    return EXIT.ok;
  }
  const rows = [["NAME", "ROLE", "STATE", "VCPU", "MEMORY", "IP", "DISK"]];
  for (const n of status.nodes) rows.push([n.name, n.role, n.state, String(n.vcpu ?? "-"), n.memoryMiB === null ? "-" : `${n.memoryMiB} MiB`, n.leaseIp ?? `${n.fixedIp} (no lease)`, n.diskPath ?? "-"]);
  const lines = [`cluster ${status.name} on ${status.uri}; network ${status.network.name}: ${status.network.exists ? (status.network.active ? "active" : "inactive") : "missing"}`];
  lines.push(table(rows));
  if (status.strays.length) lines.push(`strays (not in the spec): ${status.strays.join(", ")}`);
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT.ok;
}

/**
 * `fleet hpc up|start|stop|destroy`: change desired.hpc and apply it through the apply pipeline.
 * The spec is validated against this host before the engine is even opened.
 */
export async function hpcChangeCommand(opts: { stack: string; action: "up" | "start" | "stop" | "destroy"; spec?: string; force?: boolean }): Promise<number> {
  const cfg = stackContext(opts.stack);
  const current = cfg.desired.hpc;
  let next: HpcSpec | null;
  if (opts.action === "up") {
    const spec = loadHpcSpec(opts.stack, opts.spec);
    const problems = clusterProblems(spec, await gatherClusterFacts(spec));
    if (problems.length) throw new InputError(`cluster ${spec.name}`, problems);
    next = spec; // the power state the spec asks (running unless it says `running: false`)
  } else {
    if (!current) throw new InputError(`fleet hpc ${opts.action}`, [{ field: `${cfg.file}: fleet:desired.hpc`, message: "this stack has no hpc cluster; create one with `fleet hpc up --spec FILE`" }]);
    if (opts.action === "destroy") {
      await confirmDestroy(current.name, !!opts.force);
      next = null;
    } else next = { ...current, running: opts.action === "start" };
  }
  const applier = await openApplier(cfg, `fleet hpc ${opts.action}`);
  const journal = openJournal(cfg);
  try {
    const applied = await applier.appliedDesired();
    const kind = opts.action === "destroy" ? ("destroy" as const) : ("scale" as const);
    const decision = { area: "hpc" as const, kind, reason: `by hand: fleet hpc ${opts.action}${next ? ` (${next.compute.count + 1} nodes, ${next.running ? "running" : "shut off"})` : ` (cluster ${current!.name})`}`, from: applied.hpc?.name ?? null, to: next?.name ?? null };
    const r = await applyByHand({ stack: cfg.stack, policy: cfg.policy, applier, journal, clock: () => Date.now() }, applied, { ...applied, hpc: next }, decision);
    process.stdout.write(`hpc ${opts.action}: ${r.outcome}${r.outcome === "failed" ? ` (${r.error})` : r.outcome === "stale-plan-dropped" ? ` (${r.why})` : ""}\n`);
    return r.outcome === "applied" ? EXIT.ok : r.outcome === "stale-plan-dropped" ? EXIT.busy : EXIT.failure;
  } finally {
    journal.close();
  }
}

async function confirmDestroy(name: string, force: boolean): Promise<void> {
  if (force) return;
  if (!process.stdin.isTTY) throw new InputError("fleet hpc destroy", [{ field: "--force", message: `destroying cluster ${name} needs confirmation: pass --force when not at a terminal` }]);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`Destroy cluster ${name} (every node, disk and its network)? Type the cluster name to confirm: `, resolve));
  rl.close();
  if (answer.trim() !== name) throw new InputError("fleet hpc destroy", [{ field: "confirmation", message: `'${answer.trim()}' is not '${name}': nothing was destroyed` }]);
}
