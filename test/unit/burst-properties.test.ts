import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decide, remainingTodayUsd } from "../../reconciler/decide";
import { EMPTY_DESIRED, SignalsSchema, type DesiredFleet, type Signals } from "../../reconciler/model";
import { policy, price } from "../helpers";

const ZONES = ["us-central1-a", "us-east1-b", "europe-west1-b"] as const;
const REGIONS = ["us-central1", "us-east1", "europe-west1"];

const cycle = fc.record({
  minutes: fc.integer({ min: 1, max: 240 }),
  // Memory drawn from each band (normal, hysteresis, high, critical) so every level is reached often.
  mems: fc.array(
    fc.oneof(fc.double({ min: 0, max: 74.9, noNaN: true }), fc.double({ min: 75, max: 84.9, noNaN: true }), { arbitrary: fc.double({ min: 85, max: 94.9, noNaN: true }), weight: 3 }, fc.double({ min: 95, max: 100, noNaN: true })),
    { minLength: 0, maxLength: 6 },
  ),
  swap: fc.oneof({ arbitrary: fc.double({ min: 0, max: 49, noNaN: true }), weight: 4 }, fc.double({ min: 50, max: 100, noNaN: true })),
  spendStep: fc.double({ min: 0, max: 3, noNaN: true }),
  prices: fc.array(fc.record({ region: fc.constantFrom(...REGIONS), spot: fc.double({ min: 0.001, max: 2, noNaN: true }) }), { maxLength: 4 }),
  preempt: fc.boolean(),
  busy: fc.boolean(),
});

const config = fc.record({
  maxConcurrent: fc.integer({ min: 0, max: 6 }),
  dailyBudgetUsd: fc.double({ min: 0, max: 20, noNaN: true }),
  maxLifetimeHours: fc.double({ min: 0.25, max: 12, noNaN: true }),
  maxSpotHourUsd: fc.double({ min: 0.01, max: 2, noNaN: true }),
  startHour: fc.integer({ min: 0, max: 23 }),
});

test("property: over random signal sequences burst never exceeds maxConcurrent nor the daily budget", () => {
  fc.assert(
    fc.property(config, fc.array(cycle, { minLength: 1, maxLength: 12 }), (cfg, cycles) => {
      const p = policy({ burst: { maxConcurrent: cfg.maxConcurrent, dailyBudgetUsd: cfg.dailyBudgetUsd, maxLifetimeHours: cfg.maxLifetimeHours, maxSpotHourUsd: cfg.maxSpotHourUsd, allowedZones: [...ZONES] } });
      let at = Date.UTC(2026, 10, 22, cfg.startHour);
      let day = new Date(at).getUTCDate();
      let spent = 0;
      let previous: DesiredFleet = EMPTY_DESIRED;
      for (const c of cycles) {
        at += c.minutes * 60_000;
        if (new Date(at).getUTCDate() !== day) (day = new Date(at).getUTCDate()), (spent = 0);
        spent += c.spendStep;
        const iso = new Date(at).toISOString();
        const running = previous.burst.vms.filter((_, i) => !(c.preempt && i === 0));
        const s: Signals = SignalsSchema.parse({
          at: iso,
          pressure: { samples: c.mems.map((m, i) => ({ at: new Date(at - (c.mems.length - 1 - i) * 30_000).toISOString(), memUsedPct: m, swapUsedPct: c.swap })) },
          prices: c.prices.map((x) => price({ region: x.region, spotHourUsd: x.spot })),
          budget: { spentTodayUsd: spent },
          actual: { burst: running.map((v) => ({ name: v.name, zone: v.zone, machineType: v.machineType, createdAt: v.createdAt, lastBusyAt: c.busy ? iso : null })) },
        });
        const out = decide({ signals: s, policy: p, previous });
        const vms = out.desired.burst.vms;
        assert.ok(vms.length <= cfg.maxConcurrent, `${vms.length} VMs > maxConcurrent ${cfg.maxConcurrent}`);
        const projected = spent + vms.reduce((a, v) => a + remainingTodayUsd(v, at), 0);
        // Never over budget; when spend alone already passed it, nothing may run on.
        assert.ok(projected <= Math.max(cfg.dailyBudgetUsd, spent) + 1e-6, `projected ${projected} > budget ${cfg.dailyBudgetUsd} (spent ${spent})`);
        // Once spend passed the budget, nothing that costs money runs on.
        if (spent > cfg.dailyBudgetUsd + 1e-6) for (const v of vms) assert.equal(remainingTodayUsd(v, at), 0, `${v.name} still costs money over budget`);
        const before = new Set(running.map((v) => v.name));
        for (const v of vms.filter((x) => !before.has(x.name))) assert.ok(v.spotHourUsd <= cfg.maxSpotHourUsd, "added a VM above maxSpotHourUsd");
        for (const d of out.decisions) assert.ok(d.reason.length > 0);
        previous = out.desired;
      }
    }),
    { numRuns: 300 },
  );
});

test("property: without fresh pressure or a budget figure, nothing is ever added", () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 5 }), fc.boolean(), (mems, staleNotMissingBudget) => {
      const at = Date.UTC(2026, 10, 22, 12);
      const sampleAt = staleNotMissingBudget ? at - 3_600_000 : at;
      const s: Signals = SignalsSchema.parse({
        at: new Date(at).toISOString(),
        pressure: { samples: mems.map((m) => ({ at: new Date(sampleAt).toISOString(), memUsedPct: m, swapUsedPct: 0 })) },
        prices: [price({ spotHourUsd: 0.01 })],
        budget: staleNotMissingBudget ? { spentTodayUsd: 0 } : null,
      });
      assert.equal(decide({ signals: s, policy: policy(), previous: EMPTY_DESIRED }).desired.burst.vms.length, 0);
    }),
    { numRuns: 200 },
  );
});
