import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { cloudStack, type CloudStack } from "./cloud";
import { ENGINE_FILE_TIMEOUT_MS, engineSkipReason, stackState, type CliResult } from "./harness";

/**
 * The pool area (GCP) end to end on the real engine: the first reconcile places the instance in the
 * cheapest safe pool, drift right after is in sync, a VM deleted in GCP is drift naming it (exit 3)
 * and the next reconcile restores it; a Spot preemption (STOP) is seen by the pool's own observer.
 */
const skip = engineSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("pool (gcp) on the real engine and a GCP double", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  let c: CloudStack;
  const run = (args: string[], expect: number | "any" = 0): Promise<CliResult> => c.run(args, expect);
  const names = () => c.gcp.instances().map((vm) => `${vm.name}:${vm.status}`).sort();

  before(async () => {
    if (skip) return;
    c = await cloudStack("pool", 0.03);
    c.writeStack({ owner: "fleet", burst: { enabled: false }, pool: { enabled: true, providers: ["gcp"], allowedRegions: ["us-central1"], cooldownMinutes: 0 } });
  });
  after(async () => {
    if (!skip) await c.cleanup();
  });

  test("the first reconcile places the instance on the cheapest safe pool as Spot (STOP); drift right after is in sync", async () => {
    const r = await run(["reconcile", "--once", "--mode", "auto"]);
    assert.match(r.stdout, /cycle: applied/);
    assert.match(r.stdout, /pool\s+switch\s+no pool instance yet/);
    const vms = c.gcp.instances();
    assert.equal(vms.length, 1);
    assert.equal(vms[0]!.scheduling.provisioningModel, "SPOT");
    assert.equal(vms[0]!.scheduling.instanceTerminationAction, "STOP");
    assert.equal(vms[0]!.labels["fleet-area"], "pool");
    assert.match(vms[0]!.machineType, /machineTypes\/e2-standard-4$/);
    // Issue 19: on Fleet's network without a public address, out through its region's Cloud NAT.
    assert.match(vms[0]!.networkInterfaces[0].network, /\/networks\/fleet-net-[0-9a-f]{10}$/);
    assert.deepEqual(vms[0]!.networkInterfaces[0].accessConfigs, []);
    assert.deepEqual(fleetNetworkObjects().map((k) => k.split("/").slice(-2).join("/")).sort().map((k) => k.split("/")[0]), ["firewalls", "networks", "routers"]);
    await run(["drift"], 0);
    // The pool's observer reads the instance and its usage (Monitoring answers; no points yet).
    const again = await run(["reconcile", "--once", "--mode", "auto"]);
    assert.match(again.stdout, /cycle: in-sync/);
    assert.doesNotMatch(again.stderr, /usage unknown/);
  });

  test("the pool VM deleted in GCP is drift naming it (exit 3); reconcile restores it", async () => {
    const [vm] = c.gcp.instances();
    c.gcp.deleteByHand("instances", vm!.name);
    const drift = await run(["drift"], 3);
    assert.match(drift.stdout, new RegExp(`create \\S+::${vm!.name}\\b`));
    await run(["reconcile", "--once", "--mode", "auto"]);
    assert.deepEqual(names(), [`${vm!.name}:RUNNING`]);
    assert.deepEqual(stackState(c.stack, c.env).pending, []);
    await run(["drift"], 0);
  });

  test("pool disabled: the next reconcile removes the instance, leaving nothing in GCP", async () => {
    c.writeStack({ owner: "fleet", burst: { enabled: false }, pool: { enabled: false } });
    await run(["reconcile", "--once", "--mode", "auto"]);
    assert.deepEqual(names(), []);
    assert.deepEqual(fleetNetworkObjects(), [], "no network, router, NAT or rule of Fleet's is left");
    await run(["drift"], 0);
  });

  /** What Fleet's network adds in the double: the VPC, its routers (NAT inside) and rules. */
  function fleetNetworkObjects(): string[] {
    return [...c.gcp.compute.keys()].filter((k) => /networks\/fleet-net|\/routers\/|firewalls\/(?!default-)/.test(k));
  }
});
