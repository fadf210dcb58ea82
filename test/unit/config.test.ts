import { test } from "node:test";
import assert from "node:assert/strict";
import { envName, policyLeaves, readEnvOverrides } from "../../reconciler/config/env";
import { parseStackConfig } from "../../reconciler/config/load";
import { FleetPolicySchema } from "../../reconciler/model";

const parse = (text: string, env: NodeJS.ProcessEnv = {}) => parseStackConfig({ root: "/r", stack: "s", file: "/r/Pulumi.s.yaml", text, env });

test("config: an empty stack file gives the schema defaults", () => {
  const c = parse("config: {}\n");
  assert.equal(c.policy.burst.maxConcurrent, 2);
  assert.equal(c.policy.burst.dailyBudgetUsd, 5);
  assert.equal(c.policy.burst.maxLifetimeHours, 3);
  assert.equal(c.policy.burst.idleTimeoutMinutes, 30);
  assert.deepEqual(c.policy.burst.pressure, { highPct: 85, highSamples: 3, criticalPct: 95, swapCriticalPct: 50, normalBelowPct: 75 });
  assert.deepEqual(c.desired.burst.vms, []);
});

test("config: FLEET_* variables override policy keys, typed", () => {
  const c = parse("config:\n  fleet:policy:\n    burst:\n      maxConcurrent: 4\n", {
    FLEET_BURST_MAX_CONCURRENT: "1",
    FLEET_BURST_ENABLED: "false",
    FLEET_BURST_ALLOWED_ZONES: "us-east1-b, us-east1-c",
    FLEET_BURST_PRESSURE_HIGH_PCT: "80",
    FLEET_OWNER: "team-a",
  });
  assert.equal(c.policy.burst.maxConcurrent, 1);
  assert.equal(c.policy.burst.enabled, false);
  assert.deepEqual(c.policy.burst.allowedZones, ["us-east1-b", "us-east1-c"]);
  assert.equal(c.policy.burst.pressure.highPct, 80);
  assert.equal(c.policy.owner, "team-a");
});

test("config: every policy leaf has a documented variable name", () => {
  const names = policyLeaves(FleetPolicySchema).map((l) => l.env);
  assert.ok(names.includes("FLEET_BURST_DAILY_BUDGET_USD"));
  assert.ok(names.includes("FLEET_SIGNALS_MAX_PRICE_AGE_HOURS"));
  assert.ok(names.includes("FLEET_JOURNAL_PATH"));
  assert.equal(envName(["burst", "maxSpotHourUsd"]), "FLEET_BURST_MAX_SPOT_HOUR_USD");
});

test("config: bad env values are named; unrelated FLEET_ variables are left alone", () => {
  const r = readEnvOverrides(FleetPolicySchema, { FLEET_BURST_MAX_CONCURRENT: "two", FLEET_BURST_ENABLED: "yes", FLEET_STACK: "x", FLEET_SOMETHING: "y" });
  assert.deepEqual(r.problems.map((p) => p.field).sort(), ["FLEET_BURST_ENABLED", "FLEET_BURST_MAX_CONCURRENT"]);
});

test("config: cross-field rules are collected with the schema errors", () => {
  assert.throws(
    () => parse("config:\n  fleet:policy:\n    burst:\n      pressure:\n        highPct: 70\n        normalBelowPct: 80\n      allowedZones: [us-east1-b, us-east1-b]\n"),
    (e: Error) => /normalBelowPct: must be <= highPct \(70\)/.test(e.message) && /allowedZones: lists us-east1-b more than once/.test(e.message),
  );
});

test("config: an unknown standby target is named with the values it takes", () => {
  assert.throws(() => parse("config: {}\n", { FLEET_STANDBY_TARGET: "aws" }), /FLEET_STANDBY_TARGET \(fleet:policy\.standby\.target\): Invalid option: expected one of "gcp"\|"vast"/);
  assert.throws(() => parse("config:\n  fleet:policy:\n    standby:\n      vastStandby:\n        cpuCoresMin: 0\n"), /fleet:policy\.standby\.vastStandby\.cpuCoresMin/);
});

test("config: invalid YAML names the line", () => {
  assert.throws(() => parse("config:\n  fleet:policy: [\n"), /Pulumi\.s\.yaml:\d+: invalid YAML/);
});

test("config: an invalid fleet:desired is reported with its path", () => {
  assert.throws(() => parse("config:\n  fleet:desired:\n    burst:\n      vms: [{name: BAD}]\n"), /fleet:desired\.burst\.vms\[0\]\.name: must be a GCE name/);
});

// Added with the live readers' project (issue 13): gcp:project and journal.retentionDays are input.
test("config: a bad gcp:project or journal.retentionDays exits 2 naming the field, and plan writes nothing", async () => {
  const { InputError } = await import("../../reconciler/errors");
  const parse = (text: string) => () => parseStackConfig({ root: "/x", stack: "s", file: "/x/Pulumi.s.yaml", text, env: {} });
  assert.throws(parse("config:\n  gcp:project: 'my project; rm -rf'\n"), (e: unknown) => e instanceof InputError && e.exitCode === 2 && /Pulumi\.s\.yaml: gcp:project: must be a GCP project id/.test(e.message));
  assert.throws(parse("config:\n  fleet:policy:\n    journal:\n      retentionDays: 1\n"), (e: unknown) => e instanceof InputError && /journal\.retentionDays/.test(e.message));
  assert.equal(parseStackConfig({ root: "/x", stack: "s", file: "/x/Pulumi.s.yaml", text: "config:\n  gcp:project: my-gcp-project\n", env: {} }).gcpProject, "my-gcp-project");
  const { runFleet, tempProject } = await import("../helpers");
  const fs = await import("node:fs");
  const path = await import("node:path");
  const dir = tempProject("config:\n  gcp:project: Bad_Project\n");
  const r = runFleet(["plan", "--stack", "test"], { cwd: dir });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /gcp:project/);
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false, "nothing was written");
});
