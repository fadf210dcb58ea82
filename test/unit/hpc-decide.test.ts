import { test } from "node:test";
import assert from "node:assert/strict";
import { decideHpc } from "../../reconciler/decide/hpc";
import { decide } from "../../reconciler/decide";
import { EMPTY_DESIRED, HpcPolicySchema, HpcSpecSchema } from "../../reconciler/model";
import { CommandQueueSource } from "../../reconciler/signals/hpc-sources";
import { policy, signals } from "../helpers";

const spec = HpcSpecSchema.parse({ name: "lab", baseImage: "/img/b.qcow2", controller: { vcpu: 1, memoryMiB: 512, diskGiB: 5 }, compute: { count: 2, min: 1, max: 4, vcpu: 1, memoryMiB: 512, diskGiB: 5 } });
const allRunning = { nodes: ["lab-ctl", "lab-node-1", "lab-node-2"].map((name) => ({ name, state: "running" })) };
const noQueue = HpcPolicySchema.parse({});
const withQueue = HpcPolicySchema.parse({ queueCommand: "squeue -h -t PD | wc -l", jobsPerNode: 2 });

test("hpc decide: no cluster is a noop", () => {
  const out = decideHpc(null, { actual: { burst: [], hpc: null, pool: null, standby: null }, queue: null }, noQueue);
  assert.equal(out.desired, null);
  assert.equal(out.decisions[0]!.kind, "noop");
});

test("hpc decide: a cluster as desired is kept with no change", () => {
  const out = decideHpc(spec, { actual: { burst: [], hpc: allRunning, pool: null, standby: null }, queue: null }, noQueue);
  assert.deepEqual(out.desired, spec);
  assert.deepEqual(out.decisions.map((d) => d.kind), ["noop"]);
  assert.match(out.decisions[0]!.reason, /3 nodes running as desired/);
});

test("hpc decide: a node destroyed or stopped by hand is drift to restore; the spec stays", () => {
  const hpc = { nodes: [{ name: "lab-ctl", state: "running" }, { name: "lab-node-1", state: "shut off" }] };
  const out = decideHpc(spec, { actual: { burst: [], hpc, pool: null, standby: null }, queue: null }, noQueue);
  assert.deepEqual(out.desired, spec);
  assert.deepEqual(out.decisions.map((d) => d.kind), ["keep"]);
  assert.match(out.decisions[0]!.reason, /lab-node-1 shut off, lab-node-2 missing; desired running: the apply restores it/);
});

const scaleCases: [number, number][] = [
  [0, 1], // min
  [1, 1],
  [2, 1],
  [3, 2], // unchanged
  [5, 3],
  [100, 4], // max
];
for (const [pending, want] of scaleCases) {
  test(`hpc decide: ${pending} pending jobs at 2 per node -> ${want} compute nodes (min 1, max 4)`, () => {
    const out = decideHpc(spec, { actual: { burst: [], hpc: allRunning, pool: null, standby: null }, queue: { pendingJobs: pending } }, withQueue);
    assert.equal(out.desired!.compute.count, want);
    assert.equal(out.decisions.some((d) => d.kind === "scale"), want !== 2);
  });
}

test("hpc decide: an unknown queue length changes nothing (fail closed)", () => {
  const out = decideHpc(spec, { actual: { burst: [], hpc: allRunning, pool: null, standby: null }, queue: null }, withQueue);
  assert.equal(out.desired!.compute.count, 2);
  assert.match(out.decisions[0]!.reason, /queue length unknown/);
});

test("hpc decide: an unreadable cluster makes no drift decision", () => {
  const out = decideHpc(spec, { actual: { burst: [], hpc: null, pool: null, standby: null }, queue: null }, noQueue);
  assert.match(out.decisions[0]!.reason, /could not be read/);
});

test("decide: hpc and burst decide together; hpc cost nothing", () => {
  const out = decide({ signals: signals({ actual: { burst: [], hpc: allRunning } }), policy: policy(), previous: { ...EMPTY_DESIRED, hpc: spec } });
  assert.deepEqual(out.decisions.map((d) => d.area), ["burst", "pool", "hpc"]);
  assert.deepEqual(out.desired.hpc, spec);
});

test("queue source: a number is read; anything else is unknown", async () => {
  assert.equal(await new CommandQueueSource("echo 7", 5000).pendingJobs(), 7);
  assert.equal(await new CommandQueueSource("echo seven", 5000).pendingJobs(), null);
  assert.equal(await new CommandQueueSource("exit 3", 5000).pendingJobs(), null);
  assert.equal(await new CommandQueueSource("sleep 5", 200).pendingJobs(), null);
});
