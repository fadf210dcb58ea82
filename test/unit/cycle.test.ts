import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { areaStates, runCycle, staleBecause, type CycleDeps } from "../../reconciler/loop";
import { buildPlan } from "../../reconciler/plan";
import { Journal } from "../../reconciler/journal";
import { PendingOperationsError, StackBusyError } from "../../reconciler/apply/types";
import { EMPTY_DESIRED, type Signals } from "../../reconciler/model";
import { RecordingApplier } from "../doubles/applier";
import { recordedFailure } from "../doubles/engine-events";
import { policy, price, signals } from "../helpers";

const T0 = Date.parse("2026-11-22T12:00:00.000Z");

function setup(opts: { mems?: number[]; applier?: RecordingApplier; policyOver?: Record<string, unknown>; gather?: (n: number, atMs: number) => Signals } = {}) {
  const journal = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cycle-")), "j.db"));
  const applier = opts.applier ?? new RecordingApplier();
  let now = T0;
  let gathers = 0;
  const reviews: string[] = [];
  const deps: CycleDeps = {
    stack: "s",
    policy: policy({ reconcile: { mode: "auto" }, ...opts.policyOver }),
    gather: async () => {
      gathers++;
      const at = new Date(now).toISOString();
      return opts.gather ? opts.gather(gathers, now) : signals({ at, mems: opts.mems ?? [50, 50, 50], prices: [price({ spotHourUsd: 0.03 })], actual: { burst: applier.applied.burst.vms.map((v) => ({ name: v.name, zone: v.zone, machineType: v.machineType, createdAt: v.createdAt, lastBusyAt: at })) } });
    },
    applier,
    journal,
    clock: () => now,
    writeReview: (plan, _preview, stackVersion) => {
      reviews.push(`${plan.stack}@${stackVersion}`);
      return "/tmp/review.json";
    },
  };
  return { deps, journal, applier, reviews, advance: (ms: number) => (now += ms) };
}

test("cycle: no drift is a no-op with zero Pulumi updates", async () => {
  const { deps, applier, journal } = setup();
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "in-sync");
  assert.equal(applier.count("preview"), 0);
  assert.equal(applier.count("up"), 0);
  assert.equal(journal.events("s")[0]!.kind, "in-sync");
});

test("cycle: config drift in auto mode previews, re-checks and applies; lifetimes are journaled", async () => {
  const { deps, applier, journal } = setup({ mems: [90, 90, 90] });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "applied");
  // The applied fleet is read again under the stack's lock, just before the update (applyPlan).
  assert.deepEqual(applier.calls.map((c) => c.method), ["pendingOperations", "appliedDesired", "refreshPreview", "preview", "appliedDesired", "up"]);
  assert.equal(applier.applied.burst.vms.length, 1);
  assert.equal(journal.openLifetimes("s", "burst").length, 1);
  assert.equal(journal.areaState("s", "burst").lastChangeAt, "2026-11-22T12:00:00.000Z");
});

test("cycle: infrastructure drift alone (a preempted VM, a stopped domain) triggers an apply", async () => {
  const applier = new RecordingApplier();
  applier.infraDrift = [{ urn: "urn:pulumi:s::fleet::fleet:hpc:HpcCluster$pulumi-nodejs:dynamic/fleet:LibvirtDomain::lab-node-1", type: "LibvirtDomain", op: "update" }];
  const { deps } = setup({ applier });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "applied");
  assert.equal(r.configDrift.length, 0);
  assert.equal(r.infraDrift.length, 1);
});

test("cycle: review mode writes the artifact and does not apply", async () => {
  const { deps, applier, reviews } = setup({ mems: [90, 90, 90] });
  const r = await runCycle(deps, { mode: "review", dryRun: false });
  assert.equal(r.outcome, "review-written");
  assert.deepEqual(reviews, [`s@${applier.version}`], "the artifact carries the stack's version");
  assert.equal(applier.count("up"), 0);
});

test("staleBecause: a plan still follows from the signals it was made on, not from calmer ones", async () => {
  const { deps, journal } = setup();
  const at = "2026-11-22T12:00:00.000Z";
  const hot = signals({ at, mems: [90, 90, 90], prices: [price({ spotHourUsd: 0.03 })] });
  const plan = buildPlan({ stack: "s", source: "reconcile", signals: hot, policy: deps.policy, previous: EMPTY_DESIRED });
  assert.equal(plan.desired.burst.vms.length, 1);
  const states = areaStates(journal, "s");
  assert.equal(staleBecause({ stack: "s", policy: deps.policy, applied: EMPTY_DESIRED, states, plan, fresh: hot }), null);
  const calm = signals({ at, mems: [40, 40, 40], prices: [price({ spotHourUsd: 0.03 })] });
  assert.match(staleBecause({ stack: "s", policy: deps.policy, applied: EMPTY_DESIRED, states, plan, fresh: calm }) ?? "", /^fresh signals \(2026-11-22T12:00:00\.000Z\) no longer give this plan: burst/);
});

// Found on the real engine (test/engine/pool-lifecycle.test.ts): the first reconcile of a pool was
// always "stale-plan-dropped: pool.since", the re-check deciding the same pool a moment later.
test("staleBecause: the same pool placed a moment later is the same plan; another pool is not", async () => {
  const { deps, journal } = setup({ policyOver: { pool: { enabled: true, providers: ["gcp"], cooldownMinutes: 0 } } });
  const at = "2026-11-22T12:00:00.000Z";
  const later = "2026-11-22T12:00:09.000Z";
  const cheap = (when: string, spotHourUsd = 0.03, machineType = "e2-standard-4") => signals({ at: when, prices: [price({ spotHourUsd, machineType, at: "2026-11-22T11:00:00.000Z" })] });
  const plan = buildPlan({ stack: "s", source: "reconcile", signals: cheap(at), policy: deps.policy, previous: EMPTY_DESIRED });
  assert.ok(plan.desired.pool, JSON.stringify(plan.decisions));
  const states = areaStates(journal, "s");
  assert.equal(staleBecause({ stack: "s", policy: deps.policy, applied: EMPTY_DESIRED, states, plan, fresh: cheap(later) }), null);
  const other = signals({ at: later, prices: [price({ spotHourUsd: 0.03, machineType: "n2-standard-4", at: "2026-11-22T11:00:00.000Z" })] });
  assert.match(staleBecause({ stack: "s", policy: deps.policy, applied: EMPTY_DESIRED, states, plan, fresh: other }) ?? "", /no longer give this plan: pool/);
});

// Issue 13: pool spend was never journalled, so `fleet costs` and /api/costs left it out.
test("cycle: placing the pool starts its lifetime (spend), at the price it was placed at", async () => {
  const { deps, journal } = setup({ policyOver: { pool: { enabled: true, providers: ["gcp"], cooldownMinutes: 0 } } });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "applied");
  const open = journal.openLifetimes("s", "pool");
  assert.equal(open.length, 1);
  assert.equal(open[0]!.hourUsd, r.plan.desired.pool!.hourUsd);
  assert.equal(open[0]!.machineType, r.plan.desired.pool!.instanceType);
});

// Issue 18, item 6: scheduled cycles recorded no pressure samples.
test("cycle: every cycle records its pressure samples; a dry run records none", async () => {
  const { deps, journal } = setup({ mems: [50, 60, 70] });
  await runCycle(deps, { mode: "auto", dryRun: true });
  assert.equal(journal.pressureSamplesSince("2000-01-01T00:00:00Z").length, 0);
  await runCycle(deps, { mode: "auto", dryRun: false });
  assert.deepEqual(journal.pressureSamplesSince("2000-01-01T00:00:00Z").map((x) => x.memUsedPct), [50, 60, 70]);
});

test("cycle: --dry-run writes nothing anywhere", async () => {
  const { deps, applier, journal, reviews } = setup({ mems: [90, 90, 90] });
  const before = journal.counts();
  const r = await runCycle(deps, { mode: "auto", dryRun: true });
  assert.equal(r.outcome, "dry-run");
  assert.equal(applier.count("up"), 0);
  assert.equal(reviews.length, 0);
  assert.deepEqual(journal.counts(), before);
});

test("cycle: a plan made on stale signals is dropped", async () => {
  const { deps, applier, journal } = setup({
    gather: (n, atMs) => signals({ at: new Date(atMs).toISOString(), mems: n === 1 ? [90, 90, 90] : [50, 50, 50], prices: [price({ spotHourUsd: 0.03 })] }),
  });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "stale-plan-dropped");
  assert.equal(applier.count("up"), 0);
  assert.equal(journal.events("s")[0]!.kind, "stale-plan-dropped");
});

test("cycle: a price move to another pool between plan and re-check drops the plan", async () => {
  const { deps, applier } = setup({
    gather: (n, atMs) => signals({ at: new Date(atMs).toISOString(), mems: [90, 90, 90], prices: [price({ spotHourUsd: 0.03 }), price({ region: "us-east1", spotHourUsd: n === 1 ? 0.05 : 0.01 })] }),
  });
  assert.equal((await runCycle(deps, { mode: "auto", dryRun: false })).outcome, "stale-plan-dropped");
  assert.equal(applier.count("up"), 0);
});

test("cycle: cooldown holds a second scale-up, but never a removal", async () => {
  const { deps, applier, advance } = setup({ mems: [90, 90, 90], policyOver: { burst: { maxConcurrent: 3 } } });
  assert.equal((await runCycle(deps, { mode: "auto", dryRun: false })).outcome, "applied");
  advance(60_000); // 1 min later, cooldown is 5 min
  const held = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(held.outcome, "in-sync");
  assert.match(held.plan.decisions.find((d) => d.kind === "keep")!.reason, /cooldown of 5 min until 2026-11-22T12:05:00.000Z/);
  assert.equal(applier.count("up"), 1);
  advance(5 * 60_000);
  assert.equal((await runCycle(deps, { mode: "auto", dryRun: false })).outcome, "applied");
  assert.equal(applier.applied.burst.vms.length, 2);
  // Within the new cooldown, lifetime expiry still removes VMs at once.
  advance(3 * 3_600_000);
  const removal = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(removal.outcome, "applied");
  assert.ok(applier.applied.burst.vms.length < 2);
});

test("cycle: 3 failed applies in a row open the circuit breaker; `mode auto` closes it", async () => {
  const applier = new RecordingApplier();
  const { deps, journal, advance } = setup({ mems: [90, 90, 90], applier });
  for (let i = 1; i <= 3; i++) {
    applier.failNext("up", new Error(`quota exceeded ${i}`));
    const r = await runCycle(deps, { mode: "auto", dryRun: false });
    assert.equal(r.outcome, "failed");
    assert.deepEqual(r.outcome === "failed" && r.manual, i === 3 ? ["burst"] : []);
    advance(60_000);
  }
  assert.equal(journal.areaState("s", "burst").mode, "manual");
  assert.match(journal.areaState("s", "burst").reason!, /circuit breaker: 3 failed applies in a row, last: quota exceeded 3/);
  const held = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(held.outcome, "in-sync");
  assert.match(held.plan.decisions.find((d) => d.kind === "keep")!.reason, /manual mode/);
  assert.equal(applier.count("up"), 3);
  journal.setAreaState("s", "burst", { mode: "auto", consecutiveFailures: 0, lastChangeAt: null, reason: null });
  assert.equal((await runCycle(deps, { mode: "auto", dryRun: false })).outcome, "applied");
});

test("cycle: another update holding the stack skips the tick and counts no failure", async () => {
  const applier = new RecordingApplier().failNext("up", new StackBusyError("stack s is locked by another update"));
  const { deps, journal } = setup({ mems: [90, 90, 90], applier });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "skipped-busy");
  assert.equal(journal.areaState("s", "burst").consecutiveFailures, 0);
});

test("cycle: pending operations stop the cycle before anything is decided", async () => {
  const applier = new RecordingApplier();
  applier.pending = ["urn:pulumi:s::fleet::gcp:compute/instance:Instance::vm-1"];
  const { deps } = setup({ applier });
  await assert.rejects(runCycle(deps, { mode: "auto", dryRun: false }), PendingOperationsError);
  assert.deepEqual(applier.calls.map((c) => c.method), ["pendingOperations"]);
});

test("cycle: a mandatory policy violation blocks the apply", async () => {
  const applier = new RecordingApplier();
  applier.policyViolations = [{ policy: "fleet-hourly-cap", message: "the fleet costs $9/h, above the cap of $5/h", level: "mandatory" }];
  const { deps } = setup({ mems: [90, 90, 90], applier });
  const r = await runCycle(deps, { mode: "auto", dryRun: false });
  assert.equal(r.outcome, "blocked");
  assert.equal(applier.count("up"), 0);
});

test("cycle: a preview the policy pack fails (the engine's recorded stream) is blocked; in review mode its artifact is written", async () => {
  const applier = new RecordingApplier().failNext("preview", await recordedFailure("preview", "lifecycle/TestSimpleAnalyzeResourceFailure"));
  const { deps, reviews, journal } = setup({ mems: [90, 90, 90], applier });
  const r = await runCycle(deps, { mode: "review", dryRun: false });
  assert.equal(r.outcome, "blocked");
  assert.deepEqual(r.outcome === "blocked" ? r.reasons : [], ["always-fails: a policy failed (urn:pulumi:test::test::pkgA:m:typA::resA)"]);
  assert.equal(reviews.length, 1, "the reviewer sees the blocked plan and its violations");
  assert.equal(journal.events("s", { kind: "blocked-by-policy" }).length, 1);
  assert.equal(applier.count("up"), 0);
});

test("cycle: an error from refresh propagates (a cron run never exits 0 on failure)", async () => {
  const applier = new RecordingApplier().failNext("refreshPreview", new Error("backend unreachable"));
  const { deps } = setup({ applier });
  await assert.rejects(runCycle(deps, { mode: "auto", dryRun: false }), /backend unreachable/);
});

test("cycle: the applied desired state is the previous value decide starts from", async () => {
  const pair = { pairId: "p1", state: "gpu-lost" as const, gpu: null, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T00:00:00.000Z" };
  const applier = new RecordingApplier({ ...EMPTY_DESIRED, standby: { pairs: [pair] } });
  const { deps } = setup({ mems: [90, 90, 90], applier });
  await runCycle(deps, { mode: "auto", dryRun: false });
  assert.deepEqual(applier.applied.standby, { pairs: [pair] });
});
