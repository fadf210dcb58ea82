import * as fs from "node:fs";
import { parse as parseYaml } from "yaml";
import { stackContext } from "../../reconciler/context";
import { EXIT, InputError } from "../../reconciler/errors";
import { problemsFromZod } from "../../reconciler/config/issues";
import { gatherClusterFacts } from "../../reconciler/hpc/facts";
import { clusterProblems } from "../../reconciler/hpc/layout";
import { readClusterStatus } from "../../reconciler/hpc/status";
import { HpcSpecSchema, type HpcSpec } from "../../reconciler/model";

/** The cluster spec: from --spec FILE (JSON or YAML), else the stack's applied desired.hpc. */
export function loadHpcSpec(stack: string, specFile?: string): HpcSpec {
  if (!specFile) {
    const cfg = stackContext(stack);
    if (!cfg.desired.hpc) throw new InputError("hpc", [{ field: `${cfg.file}: fleet:desired.hpc`, message: "this stack has no hpc cluster; pass --spec FILE or run `fleet hpc up --spec FILE`" }]);
    return cfg.desired.hpc;
  }
  let raw: unknown;
  try {
    const text = fs.readFileSync(specFile, "utf8");
    raw = specFile.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
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
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = [`cluster ${status.name} on ${status.uri}; network ${status.network.name}: ${status.network.exists ? (status.network.active ? "active" : "inactive") : "missing"}`];
  for (const r of rows) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  if (status.strays.length) lines.push(`strays (not in the spec): ${status.strays.join(", ")}`);
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT.ok;
}
