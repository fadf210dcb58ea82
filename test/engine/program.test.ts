import { describe, test as nodeTest, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO } from "../helpers";
import { ENGINE_FILE_TIMEOUT_MS, engineEnv, engineSkipReason } from "./harness";

/**
 * The program as the workflows run it: `pulumi preview` from the project root through the real
 * Node.js language host, which compiles stacks/ with the project's own TypeScript and tsconfig
 * (type checking on). A type error fails the preview; `fleet plan`, whose engine runs go through
 * the reconciler's type gate (reconciler/apply/typecheck.ts), reports the compiler's message (exit 1).
 */
const skip = engineSkipReason();
const test = (name: string, fn: () => Promise<void> | void) => nodeTest(name, { skip }, fn);

const { env, stateDir } = engineEnv();
const pulumi = (args: string[], cwd: string) =>
  spawnSync("pulumi", [...args, "--non-interactive"], { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 });

/** A copy of the project's program (sources copied, node_modules linked) to break on purpose. */
function programCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-program-"));
  for (const f of ["Pulumi.yaml", "Pulumi.local.yaml", "package.json", "tsconfig.json", "tsconfig.program.json"]) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  for (const d of ["stacks", "policies", "reconciler", "data"]) fs.cpSync(path.join(REPO, d), path.join(dir, d), { recursive: true });
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

describe("the Pulumi program on the real engine", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  const stack = `prog-${process.pid}`;
  const stackFile = path.join(REPO, `Pulumi.${stack}.yaml`);
  const copies: string[] = [];
  after(() => {
    fs.rmSync(stackFile, { force: true });
    for (const d of copies) fs.rmSync(d, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("pulumi preview from the project root compiles stacks/ and previews the embedded default fleet", () => {
    fs.copyFileSync(path.join(REPO, "Pulumi.local.yaml"), stackFile);
    const init = pulumi(["stack", "init", stack], REPO);
    assert.equal(init.status, 0, init.stderr);
    const r = pulumi(["preview", "--stack", stack], REPO);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /fleet:burst:BurstPool\s+burst\s+create/);
    assert.doesNotMatch(r.stdout + r.stderr, /TSError|Unable to compile/);
  });

  test("a type error in stacks/ fails the preview, and fleet plan exits 1 with the compiler's message", () => {
    const dir = programCopy();
    copies.push(dir);
    fs.appendFileSync(path.join(dir, "stacks", "template.ts"), '\nexport const fleetTypeProbe: number = "not a number";\n');
    assert.equal(pulumi(["stack", "init", "local"], dir).status, 0);
    const r = pulumi(["preview", "--stack", "local"], dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /template\.ts\(\d+,\d+\): error TS2322/);

    const plan = spawnSync(process.execPath, [path.join(REPO, "scripts", "fleet.cjs"), "plan", "--applied"], { cwd: dir, env: { ...process.env, ...env }, encoding: "utf8", timeout: 300_000 });
    assert.equal(plan.status, 1, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /preview: the Pulumi program \(stacks\/, policies\/\) does not type-check[\s\S]*stacks\/template\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.doesNotMatch(plan.stdout + plan.stderr, /not on PATH|    at .*\(.*\.[jt]s:\d+:\d+\)/);
  });
});
