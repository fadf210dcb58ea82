import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO, runFleet, runFleetInProcess, tempProject, writeJson, samples, price } from "../helpers";

const PRICES = path.join(REPO, "data", "gcp-spot-sample.csv.gz");
const STACK = `config:\n  fleet:policy:\n    signals:\n      pricesFile: ${PRICES}\n`;
const AT = "2026-11-22T12:00:00.000Z";

function goodSignals(over: Record<string, unknown> = {}) {
  return { at: AT, pressure: { samples: samples(AT, [90, 90, 90]) }, prices: [price({ spotHourUsd: 0.03 })], budget: { spentTodayUsd: 0 }, actual: { burst: [] }, ...over };
}

function journalDigest(dir: string): string {
  const files = [".fleet/journal.db", ".fleet/journal.db-wal"].map((f) => path.join(dir, f)).filter((f) => fs.existsSync(f));
  const h = createHash("sha256");
  for (const f of files) h.update(f).update(fs.readFileSync(f));
  return files.length ? h.digest("hex") : "no journal";
}

/** Records one good plan (so a journal exists), then runs a bad one and checks nothing changed. */
async function expectBadInput(args: { signals?: unknown; stackYaml?: string; env?: Record<string, string>; field: RegExp; extraArgs?: string[] }) {
  const dir = tempProject(args.stackYaml ?? STACK);
  const seeded = args.stackYaml === undefined;
  if (seeded) {
    const ok = await runFleetInProcess(["plan", "--stack", "test", "--signals", writeJson(dir, "good.json", goodSignals())], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
  }
  const before = journalDigest(dir);
  const cli = ["plan", "--stack", "test", "--json", ...(args.extraArgs ?? [])];
  if (args.signals !== undefined) cli.push("--signals", writeJson(dir, "bad.json", args.signals));
  const r = await runFleetInProcess(cli, { cwd: dir, env: args.env });
  assert.equal(r.code, 2, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, args.field);
  assert.match(r.stderr, /Nothing was changed/);
  assert.equal(r.stdout, "");
  assert.equal(journalDigest(dir), before, "journal changed");
  if (!seeded) assert.equal(before, "no journal");
}

test("cli plan: malformed JSON exits 2 and names the problem", async () => {
  await expectBadInput({ signals: '{"at": "2026-11-22T12:00:00Z", "pressure": {', field: /bad\.json: malformed JSON/ });
});

test("cli plan: a NaN price exits 2 naming the field", async () => {
  const text = JSON.stringify(goodSignals()).replace('"spotHourUsd":0.03', '"spotHourUsd":NaN');
  await expectBadInput({ signals: text, field: /bad\.json: prices\[0\]\.spotHourUsd: NaN is not a number JSON allows/ });
});

test("cli plan: a negative price exits 2 naming the field", async () => {
  await expectBadInput({ signals: goodSignals({ prices: [price({ spotHourUsd: -0.01 })] }), field: /prices\[0\]\.spotHourUsd: must be a price above \$0 per hour/ });
});

test("cli plan: a $0 price (which would fit any number of VMs in any budget) exits 2 naming the field", async () => {
  await expectBadInput({ signals: goodSignals({ prices: [price({ spotHourUsd: 0 })] }), field: /prices\[0\]\.spotHourUsd: must be a price above \$0 per hour: no machine is free/ });
});

test("cli plan: a signals time in the future exits 2", async () => {
  await expectBadInput({ signals: goodSignals({ at: "2030-01-01T00:00:00.000Z", pressure: { samples: samples("2030-01-01T00:00:00.000Z", [90, 90, 90]) } }), field: /: at: 2030-01-01T00:00:00\.000Z is in the future/ });
});

test("cli plan: limits that would switch a check off, or a hex number, exit 2 naming the variable", async () => {
  await expectBadInput({ env: { FLEET_BURST_DAILY_BUDGET_USD: "1e308" }, field: /FLEET_BURST_DAILY_BUDGET_USD: must be a decimal number/ });
  await expectBadInput({ env: { FLEET_BURST_DAILY_BUDGET_USD: "100000" }, field: /FLEET_BURST_DAILY_BUDGET_USD \(fleet:policy\.burst\.dailyBudgetUsd\): must be at most 10000 USD/ });
  await expectBadInput({ env: { FLEET_SIGNALS_MAX_PRESSURE_AGE_SECONDS: "999999999" }, field: /\(fleet:policy\.signals\.maxPressureAgeSeconds\): must be at most 3600 s/ });
  await expectBadInput({ env: { FLEET_BURST_MAX_CONCURRENT: "0x10" }, field: /FLEET_BURST_MAX_CONCURRENT: must be a decimal number such as 2 or 0\.25, got '0x10'/ });
});

test("cli plan: a missing price exits 2 naming the field", async () => {
  const p = price() as Record<string, unknown>;
  delete p.spotHourUsd;
  await expectBadInput({ signals: goodSignals({ prices: [p] }), field: /prices\[0\]\.spotHourUsd: is required/ });
});

test("cli plan: an unknown key in the signals file exits 2 naming it", async () => {
  await expectBadInput({ signals: goodSignals({ budgett: {} }), field: /unknown key 'budgett'/ });
});

test("cli plan: a negative budget in the stack file exits 2 naming the field; no journal is created", async () => {
  await expectBadInput({ stackYaml: `config:\n  fleet:policy:\n    burst:\n      dailyBudgetUsd: -1\n`, field: /Pulumi\.test\.yaml: fleet:policy\.burst\.dailyBudgetUsd: must be a non-negative amount/ });
});

test("cli plan: a negative budget from the environment names the variable", async () => {
  await expectBadInput({ signals: goodSignals(), env: { FLEET_BURST_DAILY_BUDGET_USD: "-5" }, field: /FLEET_BURST_DAILY_BUDGET_USD \(fleet:policy\.burst\.dailyBudgetUsd\)/ });
});

test("cli plan: an unknown policy key and a misspelt variable are both listed", async () => {
  const dir = tempProject(`config:\n  fleet:policy:\n    burst:\n      maxConcurent: 3\n      dailyBudgetUsd: -1\n`);
  const r = await runFleetInProcess(["plan", "--stack", "test"], { cwd: dir, env: { FLEET_BURST_MAX_CONCURENT: "3" } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /3 problems/);
  assert.match(r.stderr, /unknown key 'maxConcurent'/);
  assert.match(r.stderr, /FLEET_BURST_MAX_CONCURENT: is not a known policy variable/);
  assert.match(r.stderr, /dailyBudgetUsd: must be a non-negative amount/);
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false);
});

test("cli plan: unknown flag and unknown stack exit 2", async () => {
  const dir = tempProject(STACK);
  assert.equal((await runFleetInProcess(["plan", "--stack", "test", "--bogus"], { cwd: dir })).code, 2);
  const r = await runFleetInProcess(["plan", "--stack", "nope"], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no Pulumi\.nope\.yaml/);
});

test("cli plan --json: one object with desired, decisions, costs and signals; journal records it", async () => {
  const dir = tempProject(STACK);
  const r = await runFleetInProcess(["plan", "--stack", "test", "--json", "--signals", writeJson(dir, "s.json", goodSignals())], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).slice(0, 4), ["desired", "decisions", "costs", "signals"]);
  assert.equal(out.desired.burst.vms.length, 1);
  assert.equal(out.decisions[0].kind, "scale");
  assert.equal(out.costs.hourlyUsd, 0.03);
  assert.equal(typeof out.costs.projectedDailyUsd, "number");
  assert.match(r.stderr, /Pulumi CLI is not on PATH/);
  const status = await runFleetInProcess(["status", "--stack", "test", "--json"], { cwd: dir });
  assert.equal(status.code, 0);
  assert.equal(JSON.parse(status.stdout).lastDecisions.find((d: { area: string }) => d.area === "burst").kind, "scale");
});

test("cli plan: blocked by budget exits 4 with the reason; --out and --markdown write the review artifact", async () => {
  const dir = tempProject(STACK);
  const s = writeJson(dir, "s.json", goodSignals({ budget: { spentTodayUsd: 4.99 } }));
  const r = await runFleetInProcess(["plan", "--stack", "test", "--signals", s, "--out", path.join(dir, "plan.json"), "--markdown", path.join(dir, "plan.md")], { cwd: dir });
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stdout, /blocked .*dailyBudgetUsd \$5/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, "plan.json"), "utf8")).blocked, 1);
  assert.match(fs.readFileSync(path.join(dir, "plan.md"), "utf8"), /\| burst \| blocked \|/);
});

test("cli plan: live signals on this machine (embedded default) work end to end", async () => {
  const dir = tempProject(STACK);
  const r = runFleet(["plan", "--stack", "test", "--json"], { cwd: dir }); // the command itself, spawned
  assert.ok(r.code === 0 || r.code === 4, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.signals.pressure.samples.length >= 3, true);
  assert.ok(out.signals.prices.length > 100, "bundled prices were read");
  assert.equal(out.source, "live");
});

test("cli costs/status on a fresh project create no journal", async () => {
  const dir = tempProject(STACK);
  assert.equal((await runFleetInProcess(["status", "--stack", "test"], { cwd: dir })).code, 0);
  assert.equal((await runFleetInProcess(["costs", "--stack", "test", "--json"], { cwd: dir })).code, 0);
  assert.equal((await runFleetInProcess(["costs", "--stack", "test", "--days", "0"], { cwd: dir })).code, 2);
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false);
});

test("cli plan: --applied with --signals exits 2 naming the flag and writes nothing", async () => {
  await expectBadInput({ signals: goodSignals(), field: /--applied: --applied plans the applied fleet without signals/, extraArgs: ["--applied"] });
});

test("cli plan: a map variable that is not JSON exits 2 naming the variable", async () => {
  await expectBadInput({ signals: goodSignals(), env: { FLEET_STANDBY_REGION_BY_CONTINENT: "NA=us-east1" }, field: /FLEET_STANDBY_REGION_BY_CONTINENT: must be a JSON object/ });
});

// Issue 18, item 6: `plan --out <a directory>` recorded the plan, then crashed with a stack trace.
test("cli plan: --out naming a directory exits 2 before anything is recorded", async () => {
  const dir = tempProject(STACK);
  const r = await runFleetInProcess(["plan", "--stack", "test", "--out", dir], { cwd: dir });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--out: .* is a directory: give a file name/);
  assert.doesNotMatch(r.stderr, /    at /);
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false, "no journal was written");
});
