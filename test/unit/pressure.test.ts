import { test } from "node:test";
import assert from "node:assert/strict";
import { pressureLevel } from "../../reconciler/decide/pressure";
import { PressureThresholdsSchema } from "../../reconciler/model";
import { samples } from "../helpers";

const defaults = PressureThresholdsSchema.parse({});
const AT = "2026-11-22T12:00:00Z";

// Table: memory series (oldest first) -> level with the defaults (high >= 85 x3, critical >= 95, normal < 75).
const cases: [string, number[], "normal" | "high" | "critical", number?][] = [
  ["empty history is normal", [], "normal"],
  ["below high stays normal", [50, 60, 84.9], "normal"],
  ["two high samples are not enough", [86, 90], "normal"],
  ["three consecutive at exactly 85 is high", [85, 85, 85], "high"],
  ["a dip below 85 resets the run", [90, 90, 80, 90, 90], "normal"],
  ["a dip then three again is high", [90, 80, 90, 90, 90], "high"],
  ["one sample at 95 is critical", [50, 95], "critical"],
  ["94.9 is not critical", [50, 94.9], "normal"],
  ["hysteresis: high holds at 80 (between 75 and 85)", [90, 90, 90, 80, 80], "high"],
  ["hysteresis: high holds at exactly 75", [90, 90, 90, 75], "high"],
  ["hysteresis: below 75 returns to normal", [90, 90, 90, 74.9], "normal"],
  ["critical eases to high at 80", [96, 80], "high"],
  ["critical eases to high at 90", [96, 90], "high"],
  ["critical to normal below 75", [96, 60], "normal"],
  ["normal does not rise at 80", [70, 80, 80, 80], "normal"],
];

for (const [name, mems, want] of cases) {
  test(`pressure: ${name}`, () => {
    assert.equal(pressureLevel(samples(AT, mems), defaults).level, want);
  });
}

test("pressure: swap at swapCriticalPct makes a sample critical", () => {
  assert.equal(pressureLevel(samples(AT, [40], 50), defaults).level, "critical");
  assert.equal(pressureLevel(samples(AT, [40], 49.9), defaults).level, "normal");
});

test("pressure: thresholds come from policy, not literals", () => {
  const t = PressureThresholdsSchema.parse({ highPct: 60, highSamples: 2, criticalPct: 70, normalBelowPct: 50 });
  assert.equal(pressureLevel(samples(AT, [61, 61]), t).level, "high");
  assert.equal(pressureLevel(samples(AT, [71]), t).level, "critical");
  assert.equal(pressureLevel(samples(AT, [61, 61, 55]), t).level, "high");
  assert.equal(pressureLevel(samples(AT, [61, 61, 49]), t).level, "normal");
});

test("pressure: highRun counts the trailing run", () => {
  assert.equal(pressureLevel(samples(AT, [90, 80, 90, 91]), defaults).highRun, 2);
});
