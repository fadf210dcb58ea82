import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { findPulumiCli } from "../../reconciler/engine";
import { EMPTY_DESIRED } from "../../reconciler/model";
import { manualPlan, planArtifact } from "../../reconciler/plan";
import { runFleetInProcess, tempProject, writeJson } from "../helpers";

// These tests are about machines without the Pulumi CLI; they use a PATH without it. They run the
// CLI in process (the same main, flags and messages; no Node.js start per command).
const PATH = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, "pulumi"))).join(path.delimiter);
const env = { PATH };
const HPC = `config:\n  fleet:desired:\n    hpc: {name: lab, baseImage: /img/b.qcow2, controller: {vcpu: 1, memoryMiB: 64, diskGiB: 1}, compute: {count: 1, vcpu: 1, memoryMiB: 64, diskGiB: 1}}\n`;

test("without the Pulumi CLI every engine command exits 1 with how to install it, and writes nothing", async () => {
  assert.equal(findPulumiCli({ PATH }), undefined);
  const dir = tempProject(HPC);
  const made = manualPlan({ stack: "test", atIso: "2026-11-22T12:00:00.000Z", previous: EMPTY_DESIRED, desired: EMPTY_DESIRED, dailyBudgetUsd: 5, decision: { area: "burst", kind: "noop", reason: "test", from: null, to: null } });
  const plan = writeJson(dir, "plan.json", planArtifact(made, null, 1));
  for (const args of [["drift"], ["reconcile", "--once"], ["reconcile", "--schedule", "*/5 * * * *"], ["apply", "--plan", plan], ["recover"], ["hpc", "stop"], ["hpc", "destroy", "--force"]]) {
    const r = await runFleetInProcess(["--stack", "test", ...args], { cwd: dir, env });
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /needs the Pulumi CLI, which is not on PATH\. Install it \(https:\/\/www\.pulumi\.com\/docs\/install\//, args.join(" "));
  }
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false, "no journal, lock or state was made");
});

test("reconcile: bad flags exit 2 before the engine is looked for", async () => {
  const dir = tempProject("config: {}\n");
  for (const [args, field] of [
    [["reconcile"], /--once\/--schedule: give exactly one/],
    [["reconcile", "--once", "--schedule", "* * * * *"], /give exactly one/],
    [["reconcile", "--schedule", "every 5 minutes"], /--schedule: 'every 5 minutes' is not a cron expression/],
    [["reconcile", "--once", "--mode", "yolo"], /--mode: must be auto or review/],
    [["mode", "auto", "--area", "gpu"], /--area: must be one of burst, pool, standby, hpc/],
    [["mode", "sometimes", "--area", "burst"], /mode: must be auto or manual/],
    [["apply", "--plan", "/nonexistent.json"], /--plan: \/nonexistent.json does not exist/],
  ] as const) {
    const r = await runFleetInProcess(["--stack", "test", ...args], { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, field);
  }
});

test("hpc destroy asks for confirmation: without a terminal it needs --force", async () => {
  const dir = tempProject(HPC);
  const r = await runFleetInProcess(["--stack", "test", "hpc", "destroy"], { cwd: dir, env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /destroying cluster lab needs confirmation: pass --force/);
});

test("hpc up validates the spec against this host before anything else", async () => {
  const dir = tempProject("config: {}\n");
  const spec = writeJson(dir, "spec.json", { name: "lab", baseImage: "/nonexistent/base.qcow2", controller: { vcpu: 200, memoryMiB: 64, diskGiB: 1 }, compute: { count: 1, vcpu: 1, memoryMiB: 64, diskGiB: 1 } });
  const r = await runFleetInProcess(["--stack", "test", "hpc", "up", "--spec", spec], { cwd: dir, env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /hpc\.controller\.vcpu: 200 vCPUs is more than this host has/);
  assert.match(r.stderr, /hpc\.baseImage: \/nonexistent\/base\.qcow2 is not a readable disk image/);
});

test("mode: sets an area to manual and back, recorded in the journal", async () => {
  const dir = tempProject("config: {}\n");
  const r1 = await runFleetInProcess(["--stack", "test", "mode", "manual", "--area", "pool", "--reason", "maintenance"], { cwd: dir, env });
  assert.equal(r1.code, 0, r1.stderr);
  assert.match(r1.stdout, /area pool of stack 'test': auto -> manual/);
  const r2 = await runFleetInProcess(["--stack", "test", "mode", "auto", "--area", "pool"], { cwd: dir, env });
  assert.match(r2.stdout, /manual -> auto/);
});
