import { test } from "node:test";
import assert from "node:assert/strict";
import { crashLoop } from "../fixtures/crash-cycle";

/**
 * Issue 18: "intent before effect". A child runs reconcile cycles (adding and removing burst VMs)
 * and is killed with SIGKILL at a random point, 50 times; after each kill the next cycle runs here,
 * and the journal's open lifetimes must name exactly the VMs of the applied fleet: no running VM
 * uncounted, none counted that does not run. The applied fleet is a file written once per update,
 * as the backend's stack output is. (`npm run bench -- crash` prints the same figures.)
 */
test("kill -9 at random points, 50 times: after the next cycle the journal and the applied fleet agree", { timeout: 300_000 }, async () => {
  const f = await crashLoop(50);
  for (const d of f.disagreements) console.error(d);
  console.error(`crash test: ${f.kills} kills, ${f.midUpdate} with an update's intent journalled and not finished, ${f.outOfStep} out of step`);
  assert.equal(f.outOfStep, 0);
});
