import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseStandbyOffer, decideStandby, vastDphUsd } from "../../reconciler/decide/standby";
import { BlockedError, InputError } from "../../reconciler/errors";
import { EMPTY_DESIRED, StandbyPolicySchema, type DesiredFleet, type Pair, type VastOffer } from "../../reconciler/model";
import { bootPair } from "../../reconciler/standby/actions";
import { observePairs, parseVastLabel, standbyLabel } from "../../reconciler/standby/observe";
import { sweepPlan } from "../../reconciler/sweep/orphans";
import type { VastInstance } from "../../reconciler/vast/client";

/** standby.target vast: the pure parts (choice of host, limits, observation, decisions, sweep). */

const AT = Date.parse("2026-11-23T12:00:00Z");
const vastPolicy = (over: Record<string, unknown> = {}) => StandbyPolicySchema.parse({ target: "vast", ...over });
const gpuOffer = (over: Partial<VastOffer> = {}): VastOffer => ({ id: 101, gpuName: "RTX_4090", numGpus: 1, gpuRamGb: 24, dphUsd: 0.4, reliability: 0.99, diskGb: 200, geolocation: "US, CA", cpuCores: 16, ramGb: 64, ...over });
const cpuOffer = (id: number, dph: number, over: Partial<VastOffer> = {}): VastOffer => ({ id, gpuName: "", numGpus: 0, gpuRamGb: 0, dphUsd: dph, reliability: 0.99, diskGb: 500, geolocation: "US, TX", cpuCores: 4, ramGb: 16, ...over });
const vastPair = (id: string, state: Pair["state"] = "running"): Pair => ({
  pairId: id,
  state,
  gpu: state === "gpu-lost" ? null : { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.4, geolocation: "US, CA" },
  standby: { target: "vast", offerId: 202, dphUsd: 0.05, geolocation: "US, TX", diskGb: 100 },
  since: "2026-11-23T00:00:00.000Z",
});
const inst = (id: number, label: string, status: string): VastInstance => ({ id, status, label, gpuName: "", dphUsd: 0.05, publicIp: null, sshHost: "ssh6.vast.ai", sshPort: 20020, startedAt: null, gpuUtilPct: null });

test("vast standby host: the cheapest meeting cores, memory, disk, price and reliability, on the GPU's continent first", () => {
  const r = vastPolicy().vastStandby;
  const offers = [cpuOffer(1, 0.02, { cpuCores: 1 }), cpuOffer(2, 0.03, { ramGb: 2 }), cpuOffer(3, 0.04, { diskGb: 50 }), cpuOffer(4, 0.05, { reliability: 0.9 }), cpuOffer(5, 0.09, { geolocation: "Germany, DE" }), cpuOffer(6, 0.11), cpuOffer(7, 0.2)];
  assert.deepEqual(chooseStandbyOffer(offers, r, 100, "US, CA"), { offer: offers[5], sameContinent: true }, "1-4 miss a requirement, 5 is in Europe, 7 is above maxDphUsd");
  assert.deepEqual(chooseStandbyOffer(offers, r, 100, "Germany, DE"), { offer: offers[4], sameContinent: true });
  assert.deepEqual(chooseStandbyOffer(offers, r, 100, "Japan, JP"), { offer: offers[4], sameContinent: false }, "none in Asia: the cheapest anywhere");
  assert.equal(chooseStandbyOffer(offers.slice(0, 4), r, 100, "US, CA"), undefined);
});

test("vast standby host: cpuOnly (default) refuses hosts that come with a GPU; false accepts them at their price", () => {
  const gpuHost = cpuOffer(9, 0.03, { numGpus: 1, gpuName: "GTX_1070" });
  assert.equal(chooseStandbyOffer([gpuHost], vastPolicy().vastStandby, 100, "US, CA"), undefined);
  assert.equal(chooseStandbyOffer([gpuHost, cpuOffer(8, 0.06)], vastPolicy({ vastStandby: { cpuOnly: false } }).vastStandby, 100, "US, CA")?.offer.id, 9);
});

test("boot with target vast: the pair's standby is the Vast host; its price counts against the limits", () => {
  const base = { standby: { pairs: [] }, offer: gpuOffer(), atIso: "2026-11-23T12:00:00.000Z" };
  const { pair } = bootPair({ ...base, policy: vastPolicy(), standbyOffer: cpuOffer(202, 0.05) });
  assert.deepEqual(pair.standby, { target: "vast", offerId: 202, dphUsd: 0.05, geolocation: "US, TX", diskGb: 100 });
  assert.throws(() => bootPair({ ...base, policy: vastPolicy({ vastStandby: { maxDphUsd: 0.04 } }), standbyOffer: cpuOffer(202, 0.05) }), (e: Error) => e instanceof BlockedError && /standby offer 202 costs \$0.05\/h, above standby.vastStandby.maxDphUsd \$0.04\/h/.test(e.message));
  assert.throws(() => bootPair({ ...base, policy: vastPolicy({ maxTotalDphUsd: 0.42 }), standbyOffer: cpuOffer(202, 0.05) }), /the pairs would rent \$0.45\/h on Vast.ai together, above standby.maxTotalDphUsd \$0.42\/h/);
  assert.throws(() => bootPair({ ...base, policy: vastPolicy() }), (e: Error) => e instanceof InputError && /standby.target/.test(e.message));
  assert.throws(() => bootPair({ ...base, policy: vastPolicy(), standbyOffer: cpuOffer(101, 0.05) }), /cannot be both the GPU and its standby/);
  // target gcp ignores a standby offer given by mistake.
  assert.equal(bootPair({ ...base, policy: StandbyPolicySchema.parse({}), standbyOffer: cpuOffer(202, 0.05) }).pair.standby.target, "gcp");
});

test("what the pairs rent on Vast: a gpu-lost pair's GPU costs nothing, its Vast standby still does", () => {
  assert.equal(vastDphUsd([vastPair("a"), vastPair("b", "gpu-lost")]), 0.4 + 0.05 + 0.05);
});

test("observe: a Vast standby is up, down (stopped) or gone; a GCP standby is not read here", () => {
  const pairs = [vastPair("a"), vastPair("b"), vastPair("c"), { ...vastPair("d"), standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 } }];
  const seen = observePairs(pairs, [inst(1, "fleet-pair-a", "running"), inst(2, standbyLabel("a"), "running"), inst(3, standbyLabel("b"), "stopped"), inst(4, "fleet-pair-d", "running")], new Set());
  assert.deepEqual(seen.map((s) => [s.pairId, s.standby.state]), [["a", "up"], ["b", "down"], ["c", "gone"], ["d", "unknown"]]);
  assert.equal(seen[0]!.gpu.state, "running", "the standby's instance is never taken for the GPU");
  assert.equal(seen[1]!.gpu.state, "lost");
  assert.deepEqual(parseVastLabel("fleet-standby-a"), { pairId: "a", role: "standby" });
  assert.deepEqual(parseVastLabel("fleet-pair-a"), { pairId: "a", role: "gpu" });
  assert.equal(parseVastLabel("someone-else"), null);
});

test("decide: a stopped Vast standby and a vanished one are reported; the pair is kept either way", () => {
  const policy = vastPolicy();
  const observed = [
    { pairId: "a", gpu: { instanceId: "1", state: "running" as const, idleSince: null }, standby: { name: "Vast instance 3", state: "down" as const } },
    { pairId: "b", gpu: { instanceId: "2", state: "running" as const, idleSince: null }, standby: { name: "pair-b-standby", state: "gone" as const } },
  ];
  const out = decideStandby({ previous: { pairs: [vastPair("a"), vastPair("b")] }, signals: { actual: { burst: [], hpc: null, pool: null, standby: observed }, offers: [] }, policy, atMs: AT });
  assert.deepEqual(out.desired.pairs.map((p) => p.pairId), ["a", "b"]);
  const reasons = out.decisions.map((d) => d.reason).join("\n");
  assert.match(reasons, /pair a: its Vast standby \(Vast instance 3\) is stopped: the next apply starts it again/);
  assert.match(reasons, /pair b: its Vast standby is gone, and the copy of the GPU's work with it/);
});

test("sweep: a pair's Vast standby is known while the pair keeps its standby on Vast; otherwise it is an orphan (held: it holds data)", () => {
  const desired: DesiredFleet = { ...EMPTY_DESIRED, standby: { pairs: [vastPair("a", "gpu-lost"), { ...vastPair("g"), standby: { target: "gcp", region: "us-central1", machineType: "e2-medium", diskGb: 100 } }] } };
  const found = ["fleet-standby-a", "fleet-standby-g", "fleet-standby-x", "fleet-pair-a"].map((label, i) => ({ provider: "vast" as const, kind: "instance", id: String(i), name: label, location: "running", labels: { label } }));
  const plan = sweepPlan(found, [{ stack: "prod", desired }]);
  assert.deepEqual(plan.orphans.map((o) => [o.resource.name, o.why, !!o.holdsData]), [
    ["fleet-standby-g", "pair 'g' keeps its standby on GCP: this Vast standby is not wanted", true],
    ["fleet-pair-a", "pair 'a' is gpu-lost: its GPU is not wanted", false],
  ]);
  // A pair this project does not have: another checkout's standby, left alone (issue 19, item 9).
  assert.deepEqual(plan.leftAlone.map((o) => o.resource.name), ["fleet-standby-x"]);
});

test("restore with a Vast standby: the standby's own price counts with the new GPU (by hand and auto-restore)", async () => {
  const { restorePair } = await import("../../reconciler/standby/actions");
  const lost = vastPair("a", "gpu-lost");
  const offer = gpuOffer({ id: 105, dphUsd: 0.4 });
  const tight = vastPolicy({ maxTotalDphUsd: 0.42 });
  assert.throws(() => restorePair({ standby: { pairs: [lost] }, pairId: "a", offer, policy: tight, atIso: "2026-11-23T12:00:00.000Z" }), /the pairs would rent \$0.45\/h on Vast.ai together/);
  assert.equal(restorePair({ standby: { pairs: [lost] }, pairId: "a", offer, policy: vastPolicy({ maxTotalDphUsd: 0.45 }), atIso: "2026-11-23T12:00:00.000Z" }).pair.state, "restoring");
  const seen = [{ pairId: "a", gpu: { instanceId: "none", state: "lost" as const, idleSince: null }, standby: { name: "Vast instance 2", state: "up" as const } }];
  const auto = decideStandby({ previous: { pairs: [lost] }, signals: { actual: { burst: [], hpc: null, pool: null, standby: seen }, offers: [offer] }, policy: vastPolicy({ autoRestore: true, maxTotalDphUsd: 0.42 }), atMs: AT });
  assert.equal(auto.desired.pairs[0]!.state, "gpu-lost");
  assert.match(auto.decisions.map((d) => d.reason).join("\n"), /auto-restore onto offer 105 \(\$0.4\/h\) would bring what the pairs rent on Vast.ai to \$0.45\/h/);
});
