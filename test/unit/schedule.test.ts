import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import pino from "pino";
import { Scheduler } from "../../reconciler/schedule";
import { lockStack, StackLockedError } from "../../reconciler/lock";
import { ReconcilerMetrics } from "../../reconciler/metrics";
import { FleetError } from "../../reconciler/errors";
import type { CycleResult } from "../../reconciler/loop";
import { buildPlan } from "../../reconciler/plan";
import { EMPTY_DESIRED } from "../../reconciler/model";
import { REPO, policy, signals } from "../helpers";

const silent = pino({ level: "silent" });
const result = (outcome: "in-sync" | "failed" = "in-sync"): CycleResult => {
  const plan = buildPlan({ stack: "s", source: "test", signals: signals(), policy: policy(), previous: EMPTY_DESIRED });
  return outcome === "failed" ? { plan, configDrift: [], infraDrift: [], outcome, error: "x", manual: [] } : { plan, configDrift: [], infraDrift: [], outcome };
};

function gate() {
  let release!: () => void;
  const p = new Promise<void>((r) => (release = r));
  return { p, release };
}

test("scheduler: a tick while a cycle runs is skipped, never overlapped", async () => {
  const g = gate();
  let running = 0;
  let maxRunning = 0;
  const s = new Scheduler(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await g.p;
    running--;
    return result();
  }, silent);
  const first = s.tick();
  await s.tick();
  await s.tick();
  assert.equal(s.skipped, 2);
  g.release();
  await first;
  assert.equal(maxRunning, 1);
  assert.equal(s.completed, 1);
});

test("scheduler: stop lets the running cycle finish; a second stop cancels the update", async () => {
  const g = gate();
  let cancelled = 0;
  const s = new Scheduler(async () => {
    await g.p;
    return result();
  }, silent, () => {}, async () => {
    cancelled++;
    g.release();
  });
  const tick = s.tick();
  let stopped = false;
  const stop = s.stop().then(() => (stopped = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(stopped, false, "waits for the cycle");
  await s.stop(); // second signal
  assert.equal(cancelled, 1);
  await Promise.all([tick, stop]);
  assert.equal(stopped, true);
  await s.tick();
  assert.equal(s.completed, 1, "no tick after stop");
});

test("scheduler: a failing cycle is logged and the scheduler goes on", async () => {
  let n = 0;
  const results: string[] = [];
  const s = new Scheduler(async () => {
    n++;
    if (n === 1) throw new Error("boom");
    return result();
  }, silent, (r) => results.push(r.outcome));
  await s.tick();
  await s.tick();
  assert.deepEqual(results, ["in-sync"]);
  assert.equal(s.completed, 2);
});

test("scheduler: cron expressions are validated", () => {
  assert.equal(Scheduler.validate("*/5 * * * *"), true);
  assert.equal(Scheduler.validate("every five minutes"), false);
});

test("lock: one process per stack, re-entrant within it; a holder killed -9 is taken over at once", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lock-"));
  const release = await lockStack(root, "s");
  const inner = await lockStack(root, "s"); // the reconciler holds it; its own update passes
  await inner();
  const other = await lockStack(root, "other"); // other stacks are independent
  await other();
  await release();
  // A child takes the lock and is killed -9 while holding it.
  const child = spawn(process.execPath, ["--import", "tsx", "-e", `require(${JSON.stringify(path.join(REPO, "reconciler/lock"))}).lockStack(${JSON.stringify(root)}, "s").then(() => { console.log("locked"); setInterval(() => {}, 1000); })`], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((r) => child.stdout!.once("data", () => r()));
  const busy = await lockStack(root, "s").catch((e: unknown) => e);
  assert.ok(busy instanceof StackLockedError, String(busy));
  assert.equal(busy.exitCode, 5);
  // The holder named by its pid, and the lock by the file the user can see (not proper-lockfile's `.lock.lock`).
  assert.match(busy.message, new RegExp(`stack 's' is busy: process ${child.pid} is changing it \\(lock \\S+/\\.fleet/locks/s\\.lock\\)\\. Nothing was changed`));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  // A holder killed -9 no longer runs: its lock is taken over at once, not after STALE_MS.
  const again = await lockStack(root, "s");
  assert.ok(again, "the dead holder's lock was taken over");
  await again!();
});

test("metrics: cycles, decisions, drift, failures and spend are served on 127.0.0.1", async () => {
  const m = new ReconcilerMetrics();
  m.observe(result());
  m.observe(result("failed"));
  const server = await m.serve(0);
  try {
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    assert.match(text, /fleet_cycles_total\{outcome="in-sync"\} 1/);
    assert.match(text, /fleet_cycles_total\{outcome="failed"\} 1/);
    assert.match(text, /fleet_decisions_total\{area="burst",kind="noop"\} 2/);
    assert.match(text, /fleet_apply_failures_total 1/);
    assert.match(text, /fleet_spend_today_usd 0/);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
  } finally {
    await server.close();
  }
});

test("metrics: a port already in use is a clear error naming the setting, not a crash", async () => {
  const first = await new ReconcilerMetrics().serve(0);
  try {
    await assert.rejects(new ReconcilerMetrics().serve(first.port), (e: Error) => e instanceof FleetError && /reconcile\.metricsPort: 127\.0\.0\.1:\d+ is already in use .* set reconcile\.metricsPort \(FLEET_RECONCILE_METRICS_PORT\)/.test(e.message));
  } finally {
    await first.close();
  }
});

// Issue 18, item 7: failed cycles never reached /metrics.
test("scheduler and metrics: a cycle that throws is counted with its reason", async () => {
  const { PendingOperationsError } = await import("../../reconciler/apply/types");
  const metrics = new ReconcilerMetrics();
  const s = new Scheduler(async () => {
    throw new PendingOperationsError(["urn:pulumi:s::fleet::x::y"]);
  }, silent, (r) => metrics.observe(r), async () => {}, (e) => metrics.observeError(e));
  await s.tick();
  await s.tick();
  const text = await metrics.registry.metrics();
  assert.match(text, /fleet_cycle_errors_total\{reason="PendingOperationsError"\} 2/);
});
