import { test } from "node:test";
import assert from "node:assert/strict";
import { raceLoop } from "../fixtures/race";

// Two processes change one stack at once, 12 times (test/fixtures/race.ts; `npm run bench -- race`
// prints the figures): never both apply, and the journal ends with exactly the applied VMs open.
test("races: two commands adding the one allowed burst VM at once never both apply; the journal stays in step", async () => {
  const f = await raceLoop(12);
  assert.equal(f.doubleApplies, 0, JSON.stringify(f));
  assert.equal(f.outOfStep, 0, JSON.stringify(f));
  assert.ok(f.busy + f.stale > 0, `the races overlapped (${JSON.stringify(f)})`);
});
