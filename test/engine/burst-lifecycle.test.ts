import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { cloudStack, type CloudStack } from "./cloud";
import { ENGINE_FILE_TIMEOUT_MS, engineSkipReason, stackState, type CliResult } from "./harness";

/**
 * The burst area end to end on the real engine: the `fleet` CLI, the Pulumi engine and its Node.js
 * language host, the test gcp plugin (test/engine/plugins/gcp.ts, the Terraform provider's rules)
 * over a GCP double that checks every call against Google's discovery documents. Plan (preview and
 * policy pack), a reviewed apply, drift right after (in sync), a preemption seen as drift, reconcile
 * restoring nothing while pressure is normal, the idle rule from the VM's own guest attribute, and
 * teardown leaving nothing in GCP.
 */
const skip = engineSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("burst on the real engine and a GCP double", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  let c: CloudStack;
  const run = (args: string[], expect: number | "any" = 0): Promise<CliResult> => c.run(args, expect);
  /** A signals file: memory at `mem` % for the last three samples, a fresh price, nothing spent. */
  const signalsFile = (mem: number): string => {
    const at = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const file = path.join(c.dir, `signals-${mem}.json`);
    fs.writeFileSync(file, JSON.stringify({
      at: iso(at),
      pressure: { samples: [2, 1, 0].map((m) => ({ at: iso(at - m * 60_000), memUsedPct: mem, swapUsedPct: 0 })) },
      prices: [{ provider: "gcp", region: "us-central1", zone: "", machineType: "e2-standard-4", vcpu: 4, ramGb: 16, spotHourUsd: 0.053584, onDemandHourUsd: 0.13402284, at: iso(at - 3_600_000) }],
      budget: { spentTodayUsd: 0 },
      actual: { burst: c.gcp.instances().map((vm) => ({ name: vm.name, zone: vm.zone.split("/").pop(), machineType: vm.machineType.split("/").pop(), createdAt: vm.creationTimestamp })) },
    }));
    return file;
  };
  const vmNames = () => c.gcp.instances().map((vm) => vm.name as string).sort();

  const burstPolicy = { owner: "fleet", burst: { enabled: true, maxConcurrent: 2, dailyBudgetUsd: 5, maxLifetimeHours: 3, idleTimeoutMinutes: 30, maxSpotHourUsd: 0.25, minVcpu: 4, minRamGb: 16 } };
  before(async () => {
    if (skip) return;
    c = await cloudStack("burst");
    c.writeStack(burstPolicy);
  });
  after(async () => {
    if (!skip) await c.cleanup();
  });

  test("a hand-edited fleet:desired the policy pack forbids is blocked by the engine (exit 4, the violation named)", async () => {
    const at = new Date().toISOString();
    const vm = { name: "fleet-burst-by-hand-1", zone: "us-central1-a", machineType: "a2-highgpu-1g", spotHourUsd: 3.5, createdAt: at, expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
    c.writeStack(burstPolicy, { "fleet:desired": JSON.stringify({ burst: { vms: [vm] } }) });
    const r = await run(["plan", "--applied"], 4);
    assert.match(r.stdout + r.stderr, /fleet-max-hourly-price/);
    // Applying it is refused before the engine runs an update: the one limits check (exit 4).
    const a = await run(["apply", "--applied"], 4);
    assert.match(a.stdout, /cycle: blocked/);
    assert.match(a.stdout, /burst\.vms\[fleet-burst-by-hand-1\]\.spotHourUsd: \$3\.5\/h is above burst\.maxSpotHourUsd \$0\.25/);
    assert.deepEqual(vmNames(), []);
    assert.equal(c.gcp.calls.filter((x) => !x.id.endsWith(".get") && !x.id.endsWith("List") && !x.id.endsWith("getIamPolicy")).length, 0, "no call that changes GCP");
    c.writeStack(burstPolicy);
  });

  test("plan under high pressure previews one Spot VM with its account and roles, the policy pack passing", async () => {
    const r = await run(["plan", "--signals", signalsFile(90), "--out", path.join(c.dir, "plan.json")]);
    assert.match(r.stdout, /burst\s+scale\s+pressure high.*burst 0 -> 1/);
    // The stack, the component, its account, two role bindings and the VM; Fleet's network (its
    // component, the VPC, the IAP rule, a Cloud Router and NAT in the VM's region).
    assert.match(r.stdout, /preview: 11 create/);
    assert.doesNotMatch(r.stdout + r.stderr, /mandatory|violation/i);
    assert.deepEqual(vmNames(), [], "a plan creates nothing");
  });

  test("the reviewed plan is refused once live signals no longer give it (exit 4), creating nothing", async () => {
    const r = await run(["apply", "--plan", path.join(c.dir, "plan.json")], 4);
    assert.match(r.stderr, /no longer give this plan: burst.*Nothing was changed/s);
    assert.deepEqual(vmNames(), []);
  });

  test("burst create makes the VM as GCP's API defines it; drift right after is in sync (exit 0)", async () => {
    await run(["burst", "create", "--count", "1", "--reason", "engine test"]);
    const vms = c.gcp.instances();
    assert.equal(vms.length, 1);
    const vm = vms[0]!;
    assert.equal(vm.scheduling.provisioningModel, "SPOT");
    assert.equal(vm.scheduling.instanceTerminationAction, "DELETE");
    assert.equal(Number(vm.scheduling.maxRunDuration.seconds), 3 * 3600);
    assert.match(vm.machineType, /zones\/us-central1-[a-z]\/machineTypes\/e2-standard-4$/);
    assert.equal(vm.labels["managed-by"], "fleet");
    assert.equal(vm.labels["fleet-area"], "burst");
    // Issue 19: on Fleet's own network, no public address; out through the region's Cloud NAT.
    assert.equal(vm.networkInterfaces.length, 1);
    assert.match(vm.networkInterfaces[0].network, /\/global\/networks\/fleet-net-[0-9a-f]{10}$/);
    assert.deepEqual(vm.networkInterfaces[0].accessConfigs, []);
    const region = vm.zone.split("/").pop().replace(/-[a-z]$/, "");
    const routers = [...c.gcp.compute.values()].filter((r) => r.kind === "compute#router");
    assert.deepEqual(routers.map((r) => [r.network, r.region.split("/").pop(), r.nats.length]), [[vm.networkInterfaces[0].network, region, 1]]);
    const sa = [...c.gcp.serviceAccounts.values()];
    assert.equal(sa.length, 1);
    assert.deepEqual(vm.serviceAccounts.map((s: { email: string }) => s.email), [sa[0]!.email]);
    const roles = c.gcp.policy.bindings.filter((b: { members: string[] }) => b.members.includes(`serviceAccount:${sa[0]!.email}`)).map((b: { role: string }) => b.role).sort();
    assert.deepEqual(roles, ["roles/logging.logWriter", "roles/monitoring.metricWriter"]);
    const drift = await run(["drift"], 0);
    assert.match(drift.stdout, /in-sync/);
  });

  test("a preempted VM (DELETE) is drift naming it (exit 3); reconcile under normal pressure does not bring it back", async () => {
    const [name] = vmNames();
    c.gcp.preempt(name!);
    const drift = await run(["drift"], 3);
    assert.match(drift.stdout, new RegExp(name!));
    await run(["reconcile", "--once", "--mode", "auto"]);
    assert.deepEqual(vmNames(), [], "pressure is normal: no VM is recreated");
    const ids = stackState(c.stack, c.env).resources.map((r) => r.type);
    assert.ok(!ids.includes("gcp:compute/instance:Instance"), ids.join(", "));
    await run(["drift"], 0);
  });

  test("a VM's own busy report keeps it; one idle past idleTimeoutMinutes goes, and with the last VM its account", async () => {
    await run(["burst", "create", "--count", "1", "--reason", "engine test"]);
    const [name] = vmNames();
    assert.ok(name);
    // Busy a minute ago: kept.
    c.gcp.setGuestAttribute(name!, "fleet", "last-busy-at", new Date(Date.now() - 60_000).toISOString().slice(0, 19) + "Z");
    await run(["reconcile", "--once", "--mode", "auto"]);
    assert.deepEqual(vmNames(), [name]);
    // Last busy 2 h ago (idleTimeoutMinutes 30): removed, and with the last VM its account and roles.
    c.gcp.setGuestAttribute(name!, "fleet", "last-busy-at", new Date(Date.now() - 7_200_000).toISOString().slice(0, 19) + "Z");
    const r = await run(["reconcile", "--once", "--mode", "auto", "--json"]);
    assert.match(r.stdout, /idle/);
    assert.deepEqual(vmNames(), []);
    assert.equal(c.gcp.serviceAccounts.size, 0);
    assert.ok(!JSON.stringify(c.gcp.policy).includes("serviceAccount:"), JSON.stringify(c.gcp.policy));
    // And Fleet's network: no GCP VM declared, so no VPC, router, NAT or rule of Fleet's is left.
    const left = [...c.gcp.compute.keys()].filter((k) => /networks\/fleet-net|\/routers\/|firewalls\/(?!default-)/.test(k));
    assert.deepEqual(left, []);
    assert.deepEqual(stackState(c.stack, c.env).pending, []);
    await run(["drift"], 0);
  });
});
