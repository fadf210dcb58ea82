import { test } from "node:test";
import assert from "node:assert/strict";
import { decide } from "../../reconciler/decide";
import { EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import { policy, price, signals } from "../helpers";

const AT = "2026-11-22T12:00:00.000Z";
const HIGH = [90, 90, 90];
const kinds = (ds: { kind: string }[]) => ds.map((d) => d.kind);
/** The burst area's decisions (decide also speaks for the other areas). */
const b = (o: { decisions: { area: string; kind: string; reason: string; from: unknown; to: unknown }[] }) => o.decisions.filter((d) => d.area === "burst");

test("burst: normal pressure is a noop with a reason", () => {
  const out = decide({ signals: signals({ mems: [50, 50, 50] }), policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["noop"]);
  assert.match(b(out)[0]!.reason, /pressure normal \(mem 50%\): burst stays at 0/);
  assert.equal(out.desired.burst.vms.length, 0);
});

test("burst: high pressure scales 0 -> 1 on the cheapest allowed zone and type", () => {
  const prices = [
    price({ region: "us-central1", machineType: "e2-standard-4", spotHourUsd: 0.05 }),
    price({ region: "us-east1", machineType: "e2-standard-4", spotHourUsd: 0.03 }),
    price({ region: "us-east1", machineType: "n2d-standard-4", spotHourUsd: 0.029 }),
    price({ region: "asia-east1", machineType: "e2-standard-4", spotHourUsd: 0.001 }), // zone not allowed
    price({ region: "us-east1", machineType: "e2-medium", vcpu: 2, ramGb: 4, spotHourUsd: 0.002 }), // too small and not allowed
  ];
  const out = decide({ signals: signals({ at: AT, mems: HIGH, prices }), policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["scale"]);
  const d = b(out)[0]!;
  assert.equal(d.from, 0);
  assert.equal(d.to, 1);
  assert.match(d.reason, /pressure high \(mem 90% >= 85% for 3 samples\): burst 0 -> 1 \(n2d-standard-4 in us-east1-b/);
  const vm = out.desired.burst.vms[0]!;
  assert.equal(vm.zone, "us-east1-b");
  assert.equal(vm.machineType, "n2d-standard-4");
  assert.equal(vm.name, "fleet-burst-20261122t1200-1");
  assert.equal(vm.expiresAt, "2026-11-22T15:00:00.000Z");
  assert.equal(out.costs.hourlyUsd, 0.029);
});

test("burst: critical pressure goes straight to maxConcurrent", () => {
  const out = decide({ signals: signals({ mems: [50, 97] }), policy: policy({ burst: { maxConcurrent: 3 } }), previous: EMPTY_DESIRED });
  assert.equal(out.desired.burst.vms.length, 3);
  assert.equal(new Set(out.desired.burst.vms.map((v) => v.name)).size, 3);
});

test("burst: high pressure adds one per cycle and stops at maxConcurrent", () => {
  const p = policy({ burst: { maxConcurrent: 2 } });
  let previous: DesiredFleet = EMPTY_DESIRED;
  let at = Date.parse(AT);
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const iso = new Date(at).toISOString();
    const actual = { burst: previous.burst.vms.map((v) => ({ name: v.name, zone: v.zone, machineType: v.machineType, createdAt: v.createdAt, lastBusyAt: iso })) };
    const out = decide({ signals: signals({ at: iso, mems: HIGH, actual }), policy: p, previous });
    counts.push(out.desired.burst.vms.length);
    previous = out.desired;
    at += 5 * 60_000;
  }
  assert.deepEqual(counts, [1, 2, 2, 2]);
});

test("burst: a VM past maxLifetimeHours is removed, with a reason", () => {
  const actual = { burst: [{ name: "fleet-burst-old-1", zone: "us-central1-a" as const, machineType: "e2-standard-4", createdAt: "2026-11-22T08:59:00Z", lastBusyAt: AT }] };
  const out = decide({ signals: signals({ at: AT, actual }), policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["destroy"]);
  assert.match(b(out)[0]!.reason, /fleet-burst-old-1 age 3.02 h >= maxLifetimeHours 3: remove/);
  assert.equal(out.desired.burst.vms.length, 0);
});

test("burst: a VM idle past idleTimeoutMinutes is removed; unknown busy time only ages out", () => {
  const base = { zone: "us-central1-a" as const, machineType: "e2-standard-4", createdAt: "2026-11-22T11:00:00Z" };
  const actual = {
    burst: [
      { ...base, name: "idle-vm", lastBusyAt: "2026-11-22T11:29:00Z" },
      { ...base, name: "busy-vm", lastBusyAt: "2026-11-22T11:59:00Z" },
      { ...base, name: "unknown-vm", lastBusyAt: null },
    ],
  };
  const out = decide({ signals: signals({ at: AT, actual }), policy: policy({ burst: { maxConcurrent: 3 } }), previous: EMPTY_DESIRED });
  assert.deepEqual(b(out).filter((d) => d.kind === "destroy").map((d) => d.from), ["idle-vm"]);
  assert.match(b(out)[0]!.reason, /idle 31 min >= idleTimeoutMinutes 30/);
  assert.deepEqual(out.desired.burst.vms.map((v) => v.name), ["busy-vm", "unknown-vm"]);
});

test("burst: the budget caps the count, and the rest is reported as blocked", () => {
  // 12:00 UTC: 12 hours left, capped by the 3 h lifetime: each VM projects 0.5 * 3 = 1.5 USD.
  const out = decide({
    signals: signals({ at: AT, mems: [99], prices: [price({ spotHourUsd: 0.2 })], budget: { spentTodayUsd: 2 } }),
    policy: policy({ burst: { maxConcurrent: 3, dailyBudgetUsd: 5, maxSpotHourUsd: 1 } }),
    previous: EMPTY_DESIRED,
  });
  // each VM projects 0.2 * 3 h = 0.6: 2 + 3 * 0.6 = 3.8 <= 5, so all 3 fit; a dearer price binds:
  assert.equal(out.desired.burst.vms.length, 3);
  const tight = decide({
    signals: signals({ at: AT, mems: [99], prices: [price({ spotHourUsd: 0.5 })], budget: { spentTodayUsd: 2 } }),
    policy: policy({ burst: { maxConcurrent: 3, dailyBudgetUsd: 5, maxSpotHourUsd: 1 } }),
    previous: EMPTY_DESIRED,
  });
  assert.deepEqual(kinds(b(tight)), ["scale", "blocked"]);
  assert.equal(tight.desired.burst.vms.length, 2); // 2 + 2 * 1.5 = 5 <= 5; a third would be 6.5
  assert.equal(tight.costs.projectedDailyUsd, 5);
  assert.match(b(tight)[1]!.reason, /1 more VM would project \$6.5 > dailyBudgetUsd \$5 \(spent \$2\)/);
});

test("burst: near midnight the projection uses the hours left in the day", () => {
  const out = decide({
    signals: signals({ at: "2026-11-22T23:00:00.000Z", mems: [99], prices: [price({ spotHourUsd: 0.5 })], budget: { spentTodayUsd: 4.4 } }),
    policy: policy({ burst: { maxConcurrent: 2, dailyBudgetUsd: 5, maxSpotHourUsd: 1 } }),
    previous: EMPTY_DESIRED,
  });
  assert.equal(out.desired.burst.vms.length, 1); // 4.4 + 0.5 = 4.9; two would be 5.4
});

test("burst: pools above maxSpotHourUsd are refused", () => {
  const out = decide({ signals: signals({ mems: HIGH, prices: [price({ spotHourUsd: 0.3 })] }), policy: policy({ burst: { maxSpotHourUsd: 0.25 } }), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["blocked"]);
  assert.match(b(out)[0]!.reason, /1 above maxSpotHourUsd \$0.25/);
});

test("burst: fails closed on stale pressure, stale prices, missing budget", () => {
  const stalePressure = signals({ mems: HIGH });
  stalePressure.at = "2026-11-22T12:10:00.000Z";
  let out = decide({ signals: stalePressure, policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["blocked"]);
  assert.match(b(out)[0]!.reason, /pressure signal stale or missing \(newest sample 600 s old > maxPressureAgeSeconds 300\)/);

  out = decide({ signals: signals({ mems: HIGH, prices: [price({ at: "2026-09-01T00:00:00Z" })] }), policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["blocked"]);
  assert.match(b(out)[0]!.reason, /1 stale > maxPriceAgeHours 840/);

  out = decide({ signals: signals({ mems: HIGH, budget: null }), policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["blocked"]);
  assert.match(b(out)[0]!.reason, /budget signal missing/);
  assert.equal(out.desired.burst.vms.length, 0);
});

test("burst: samples after the clock are ignored (no look-ahead)", () => {
  const s = signals({ at: AT, mems: [50, 50, 50] });
  s.pressure.samples.push({ at: "2026-11-22T12:05:00.000Z", memUsedPct: 99, swapUsedPct: 0 });
  const out = decide({ signals: s, policy: policy(), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["noop"]);
});

test("burst: spend over budget removes running VMs, costliest first", () => {
  const base = { zone: "us-central1-a" as const, machineType: "e2-standard-4", lastBusyAt: AT };
  const actual = { burst: [{ ...base, name: "a", createdAt: "2026-11-22T11:00:00Z" }, { ...base, name: "b", createdAt: "2026-11-22T11:30:00Z" }] };
  const out = decide({ signals: signals({ at: AT, actual, budget: { spentTodayUsd: 4.95 }, prices: [price({ spotHourUsd: 0.04 })] }), policy: policy(), previous: EMPTY_DESIRED });
  // a projects 0.04 * 2 h = 0.08, b 0.04 * 2.5 h = 0.10: drop b (0.10) -> 5.03, then a -> 4.95.
  assert.deepEqual(b(out).filter((d) => d.kind === "destroy").map((d) => d.from), ["b", "a"]);
  assert.ok(out.costs.projectedDailyUsd! <= 5);
});

test("burst: disabled removes every burst VM", () => {
  const actual = { burst: [{ name: "x", zone: "us-central1-a" as const, machineType: "e2-standard-4", createdAt: AT, lastBusyAt: AT }] };
  const out = decide({ signals: signals({ at: AT, mems: HIGH, actual }), policy: policy({ burst: { enabled: false } }), previous: EMPTY_DESIRED });
  assert.deepEqual(kinds(b(out)), ["destroy"]);
  assert.equal(out.desired.burst.vms.length, 0);
});

test("burst: other areas are carried through unchanged", () => {
  const previous = { ...EMPTY_DESIRED, standby: { pairs: [{ pairId: "p1", state: "gpu-lost" as const, gpu: null, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T00:00:00.000Z" }] } };
  const out = decide({ signals: signals(), policy: policy(), previous });
  assert.deepEqual(out.desired.standby, previous.standby);
});

test("burst: decide is deterministic", () => {
  const input = { signals: signals({ mems: [99], prices: [price(), price({ region: "us-east1" })] }), policy: policy(), previous: EMPTY_DESIRED };
  assert.deepEqual(decide(input), decide(structuredClone(input)));
});

// Found on the real engine: `fleet drift` right after `fleet burst create` reported a config drift
// on burst.vms[...].createdAt, because the observed creation (when the journal recorded the VM)
// came seconds after the one the desired fleet declared.
test("burst: a running VM keeps the creation time it was declared with (same signals, same desired)", () => {
  const created = decide({ signals: signals({ at: AT, mems: [50, 97] }), policy: policy({ burst: { maxConcurrent: 1 } }), previous: EMPTY_DESIRED }).desired;
  const vm = created.burst.vms[0]!;
  const recordedLater = new Date(Date.parse(vm.createdAt) + 7_000).toISOString();
  const actual = { burst: [{ name: vm.name, zone: vm.zone, machineType: vm.machineType, createdAt: recordedLater, lastBusyAt: AT }] };
  const again = decide({ signals: signals({ at: AT, mems: [50, 50, 50], actual }), policy: policy({ burst: { maxConcurrent: 1 } }), previous: created }).desired;
  assert.deepEqual(again.burst.vms, created.burst.vms);
});
