import { test } from "node:test";
import assert from "node:assert/strict";
import { unreachableAreas } from "../../reconciler/apply/reach";
import { EMPTY_DESIRED, HpcSpecSchema, type DesiredFleet } from "../../reconciler/model";
import { findPulumiCli } from "../../reconciler/engine";
import { runFleet, tempProject } from "../helpers";

// qemu+ssh to a closed loopback port: libvirt's client fails at once, as on a runner with no libvirt host.
const hpc = HpcSpecSchema.parse({ name: "far", uri: "qemu+ssh://nobody@127.0.0.1:9/system", baseImage: "/var/lib/base.qcow2", controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 }, compute: { count: 1, vcpu: 1, memoryMiB: 64, diskGiB: 1 } });
const pair = { pairId: "a", state: "running" as const, gpu: { offerId: 1, gpuName: "RTX 4090", dphUsd: 0.4, geolocation: "Germany, DE" }, standby: { target: "gcp" as const, region: "europe-west1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T12:00:00.000Z" };

test("an empty fleet is reachable from anywhere", async () => {
  assert.deepEqual(await unreachableAreas(EMPTY_DESIRED, {}), []);
});

test("an hpc cluster on an unreachable libvirt host, and pairs without VAST_API_KEY, are each named", async () => {
  const desired: DesiredFleet = { ...EMPTY_DESIRED, hpc, standby: { pairs: [pair] } };
  const problems = await unreachableAreas(desired, {});
  assert.equal(problems.length, 2, problems.join("\n"));
  assert.match(problems[0]!, /^hpc: cluster far lives on the libvirt host at qemu\+ssh:\/\/nobody@127\.0\.0\.1:9\/system, which this machine cannot reach/);
  assert.match(problems[1]!, /^standby: 1 pair\(s\) rent on Vast\.ai and VAST_API_KEY is not set/);
  assert.deepEqual(await unreachableAreas({ ...EMPTY_DESIRED, standby: { pairs: [pair] } }, { VAST_API_KEY: "k" }), []);
});

test("fleet apply --applied stops before any engine run with the reason (exit 1)", { skip: !findPulumiCli() && process.env.FLEET_REQUIRE_PULUMI !== "1" ? "needs the Pulumi CLI (the engine is opened first)" : false }, () => {
  const desired = JSON.stringify({ ...EMPTY_DESIRED, hpc });
  const dir = tempProject(`config:\n  fleet:desired: '${desired}'\n`);
  const r = runFleet(["apply", "--applied", "--stack", "test"], { cwd: dir, engine: true });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /fleet apply --applied: this machine cannot refresh the stack, so nothing was run:\n\s+- hpc: cluster far/);
  assert.equal(require("node:fs").existsSync(require("node:path").join(dir, ".fleet")), false, "no journal, no state");
});
