import { test } from "node:test";
import assert from "node:assert/strict";
import { createBurstByHand, terminateBurstByHand } from "../../reconciler/decide/burst-manual";
import { BlockedError } from "../../reconciler/errors";
import { policy, price } from "../helpers";

const AT = Date.parse("2026-11-22T12:00:00Z");
const fresh = [price({ zone: "us-central1-a", at: "2026-11-22T11:00:00Z" })];
const base = (over: Partial<Parameters<typeof createBurstByHand>[0]> = {}) => {
  const p = policy({ burst: { dailyBudgetUsd: 1, maxConcurrent: 3, maxLifetimeHours: 4 } });
  return { previous: { vms: [] }, prices: fresh, spentTodayUsd: 0, policy: p.burst, signalsPolicy: p.signals, count: 2, reason: "load test", atMs: AT, ...over };
};

test("burst by hand: VMs in the cheapest allowed pool, with the reason journalled in the decision", () => {
  const r = createBurstByHand(base());
  assert.equal(r.added.length, 2);
  assert.deepEqual(r.added.map((v) => [v.zone, v.machineType, v.spotHourUsd, v.expiresAt]), [["us-central1-a", "e2-standard-4", 0.04, "2026-11-22T16:00:00.000Z"], ["us-central1-a", "e2-standard-4", 0.04, "2026-11-22T16:00:00.000Z"]]);
  assert.match(r.decision.reason, /^by hand \(load test\): burst 0 -> 2 \(e2-standard-4 in us-central1-a at \$0.04\/h; projected spend \$0.32 of \$1\)/);
});

test("burst by hand: limits hold and fail closed, all-or-nothing", () => {
  const blocked = (over: Partial<Parameters<typeof createBurstByHand>[0]>, re: RegExp) => assert.throws(() => createBurstByHand(base(over)), (e: unknown) => e instanceof BlockedError && re.test(e.message));
  blocked({ spentTodayUsd: null }, /budget signal \(spend today\) is missing/);
  blocked({ count: 4 }, /burst.maxConcurrent is 3: 4 more do not fit/);
  blocked({ spentTodayUsd: 0.8 }, /would project \$1.12 today, above burst.dailyBudgetUsd \$1/);
  blocked({ prices: [price({ zone: "us-central1-a", at: "2026-09-01T00:00:00Z" })] }, /no allowed pool with a fresh price \(1 stale/);
  blocked({ policy: policy({ burst: { enabled: false } }).burst }, /burst.enabled is false/);
});

test("burst terminate by hand: one by name, or all; an unknown name is bad input", () => {
  const { added } = createBurstByHand(base());
  const previous = { vms: added };
  assert.deepEqual(terminateBurstByHand({ previous, name: added[0]!.name, reason: "done" }).desired.vms.map((v) => v.name), [added[1]!.name]);
  assert.deepEqual(terminateBurstByHand({ previous, all: true, reason: "done" }).desired.vms, []);
  assert.throws(() => terminateBurstByHand({ previous, name: "nope", reason: "x" }), /--name: no burst VM 'nope'/);
});

// Found on the real engine (test/engine/burst-lifecycle.test.ts): after a preemption and a failed
// update, the applied fleet still named the preempted VM, and `burst create --count 1` made two.
test("burst by hand: an applied VM that GCP no longer runs is neither counted nor re-created", () => {
  const gone = { name: "fleet-burst-20261122t1100-1", zone: "us-central1-a", machineType: "e2-standard-4", spotHourUsd: 0.04, createdAt: "2026-11-22T11:00:00.000Z", expiresAt: "2026-11-22T15:00:00.000Z" };
  const kept = { ...gone, name: "fleet-burst-20261122t1100-2" };
  const r = createBurstByHand(base({ previous: { vms: [gone, kept] }, running: new Set([kept.name]), count: 2 }));
  assert.deepEqual(r.desired.vms.map((v) => v.name).slice(0, 1), [kept.name]);
  assert.equal(r.desired.vms.length, 3);
  assert.ok(!r.desired.vms.some((v) => v.name === gone.name));
  assert.ok(!r.added.some((v) => v.name === gone.name), "a new VM never reuses the gone VM's name");
  assert.match(r.decision.reason, /burst 1 -> 3/);
});
