import { test } from "node:test";
import assert from "node:assert/strict";
import { EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import { sweepPlan, type FoundResource } from "../../reconciler/sweep/orphans";

const pair = (pairId: string, state: "running" | "gpu-lost") => ({ pairId, state, gpu: null, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" });
const prod: DesiredFleet = {
  ...EMPTY_DESIRED,
  burst: { vms: [{ name: "fleet-burst-a1", zone: "us-central1-a", machineType: "e2-standard-4", spotHourUsd: 0.04, createdAt: "2026-11-22T10:00:00.000Z", expiresAt: "2026-11-22T13:00:00.000Z" } as DesiredFleet["burst"]["vms"][number]] },
  standby: { pairs: [pair("train", "running"), pair("lost", "gpu-lost")] },
  pool: { provider: "aws", region: "us-east-1", zone: "us-east-1a", instanceType: "m5.large", vcpu: 2, ramGb: 8, market: "spot", hourUsd: 0.04, since: "2026-11-22T10:00:00.000Z" },
};
const stacks = [{ stack: "prod", desired: prod }, { stack: "dev", desired: EMPTY_DESIRED }];
const gcp = (name: string, labels: Record<string, string>, kind = "instance"): FoundResource => ({ provider: "gcp", kind, id: name, name, location: "us-central1-a", labels: { "managed-by": "fleet", ...labels } });

test("sweep: what a stack knows stays; what none knows is an orphan, with the reason", () => {
  const found: FoundResource[] = [
    gcp("fleet-burst-a1", { "fleet-area": "burst", "fleet-stack": "prod" }),
    gcp("fleet-burst-zz", { "fleet-area": "burst", "fleet-stack": "prod" }),
    gcp("fleet-burst-a1", { "fleet-area": "burst", "fleet-stack": "dev" }),
    gcp("pair-train-data", { "fleet-area": "standby", "fleet-pair": "train", "fleet-stack": "prod" }, "disk"),
    gcp("pair-lost-data", { "fleet-area": "standby", "fleet-pair": "lost", "fleet-stack": "prod" }, "disk"),
    gcp("pair-old-data", { "fleet-area": "standby", "fleet-pair": "old", "fleet-stack": "prod" }, "disk"),
    gcp("x", { "fleet-area": "burst", "fleet-stack": "staging" }),
    gcp("y", {}),
    { provider: "aws", kind: "instance", id: "i-1", name: "i-1", location: "us-east-1a", labels: { "managed-by": "fleet", "fleet-area": "pool", "fleet-stack": "prod" } },
    { provider: "aws", kind: "instance", id: "i-2", name: "i-2", location: "eu-west-1a", labels: { "managed-by": "fleet", "fleet-area": "pool" } },
    { provider: "vast", kind: "instance", id: "7", name: "fleet-pair-train", location: "running", labels: { label: "fleet-pair-train" } },
    { provider: "vast", kind: "instance", id: "8", name: "fleet-pair-lost", location: "exited", labels: { label: "fleet-pair-lost" } },
    { provider: "vast", kind: "instance", id: "9", name: "fleet-pair-gone", location: "running", labels: { label: "fleet-pair-gone" } },
  ];
  const plan = sweepPlan(found, stacks);
  const orphans = plan.orphans.map((o) => [o.resource.provider, o.resource.name, o.why]);
  assert.deepEqual(orphans, [
    ["gcp", "fleet-burst-zz", "burst VM fleet-burst-zz is in no desired fleet of stack prod"],
    ["gcp", "fleet-burst-a1", "burst VM fleet-burst-a1 is in no desired fleet of stack dev"],
    ["gcp", "pair-old-data", "no pair 'old' in stack prod"],
    ["vast", "fleet-pair-lost", "pair 'lost' is gpu-lost: its GPU is not wanted"],
  ]);
  // The disk of a gpu-lost pair is known (the standby keeps its data).
  assert.ok(!orphans.some((o) => o[1] === "pair-lost-data"));
  assert.deepEqual(plan.orphans.filter((o) => o.holdsData).map((o) => o.resource.name), ["pair-old-data"], "standby data is flagged");
  // Issue 19, item 9: what this project cannot claim is left alone, never an orphan.
  assert.deepEqual(plan.leftAlone.map((o) => [o.resource.name, o.why]), [
    ["x", "its stack 'staging' is not a stack of this project"],
    ["y", "no fleet-stack label: no project identity"],
    ["i-2", "no fleet-stack label: no project identity"],
    ["fleet-pair-gone", "no pair 'gone' in this project, and a Vast label carries no project identity (another checkout's?)"],
  ]);
});
