import { test } from "node:test";
import assert from "node:assert/strict";
import { limitViolations } from "../../reconciler/limits";
import { EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import { policy } from "../helpers";

/**
 * The one limits check every applying path runs under the stack's lock (AutomationApplier.up):
 * issue 18's hand-edited plan (20 VMs for maxConcurrent 2, 100 h for maxLifetimeHours 3) is refused;
 * what already runs is judged by the limits it was made under.
 */
const AT = Date.parse("2026-12-02T08:00:00.000Z");
const vm = (i: number, hours = 3, spotHourUsd = 0.05) => ({ name: `fleet-burst-20261202t0800-${i}`, zone: "us-central1-a", machineType: "e2-standard-4", spotHourUsd, createdAt: new Date(AT).toISOString(), expiresAt: new Date(AT + hours * 3_600_000).toISOString() });
const fleet = (vms: ReturnType<typeof vm>[]): DesiredFleet => ({ ...EMPTY_DESIRED, burst: { vms } });
const p = policy({ burst: { maxConcurrent: 2, maxLifetimeHours: 3, maxSpotHourUsd: 0.25 } });

test("limits: a plan within the policy passes", () => {
  assert.deepEqual(limitViolations(fleet([vm(1), vm(2)]), p, EMPTY_DESIRED), []);
});

test("limits: the hand-edited plan of issue 18 is refused, each limit named", () => {
  const edited = fleet(Array.from({ length: 20 }, (_, i) => vm(i + 1, 100)));
  const v = limitViolations(edited, p, EMPTY_DESIRED);
  assert.ok(v.some((x) => x.field === "burst.vms" && /20 VMs is more than burst.maxConcurrent 2/.test(x.message)));
  assert.equal(v.filter((x) => /lifetime of 100.00 h/.test(x.message)).length, 20);
  const pricey = limitViolations(fleet([vm(1, 3, 3.5)]), p, EMPTY_DESIRED);
  assert.match(pricey[0]!.message, /\$3.5\/h is above burst.maxSpotHourUsd \$0.25/);
  assert.equal(limitViolations(fleet([vm(1, -1)]), p, EMPTY_DESIRED).length, 1, "an expiry before creation");
});

test("limits: running VMs made under older limits are not refused; growing past a lowered cap is", () => {
  const running = fleet([vm(1, 6), vm(2, 6), vm(3, 6)]);
  assert.deepEqual(limitViolations(running, p, running), []);
  assert.deepEqual(limitViolations(fleet([vm(1, 6), vm(2, 6)]), p, running), [], "shrinking toward the cap is allowed");
  assert.ok(limitViolations(fleet([vm(1, 6), vm(2, 6), vm(3, 6), vm(4)]), p, running).some((x) => x.field === "burst.vms"));
});

test("limits: burst disabled adds nothing; pool and standby limits hold for what is new", () => {
  const off = policy({ burst: { enabled: false } });
  assert.match(limitViolations(fleet([vm(1)]), off, EMPTY_DESIRED)[0]!.message, /burst.enabled is false/);
  const pool = { provider: "gcp" as const, region: "us-central1", zone: "", instanceType: "e2-standard-4", vcpu: 4, ramGb: 16, market: "spot" as const, hourUsd: 9, since: new Date(AT).toISOString() };
  const withPool = { ...EMPTY_DESIRED, pool };
  const v = limitViolations(withPool, policy({ pool: { enabled: true, maxSpotHourUsd: 2 } }), EMPTY_DESIRED);
  assert.deepEqual(v.map((x) => x.field), ["pool.hourUsd"]);
  assert.deepEqual(limitViolations(withPool, policy({ pool: { enabled: false } }), EMPTY_DESIRED).map((x) => x.field), ["pool", "pool.hourUsd"]);
  assert.deepEqual(limitViolations(withPool, policy({ pool: { enabled: false } }), withPool), [], "an instance already placed is not refused");
});
