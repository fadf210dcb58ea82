import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { FLEET_NETWORK_LINK, installMocks, networkStub, outputValue, type Created } from "./mocks";
import { gcpNetworkViolations } from "../../policies/rules";
import { FleetPolicySchema, type BurstVmSpec } from "../../reconciler/model";

let created: Created[];
before(() => {
  created = installMocks();
  pulumi.runtime.setConfig("gcp:project", "proj");
});

const policy = FleetPolicySchema.parse({ owner: "alice" });
function vm(i: number): BurstVmSpec {
  return { name: `fleet-burst-20261122t1200-${i}`, zone: "us-east1-b", machineType: "e2-standard-4", spotHourUsd: 0.03, createdAt: "2026-11-22T12:00:00.000Z", expiresAt: "2026-11-22T15:00:00.000Z" };
}

test("BurstPool: one Spot VM per desired VM, with labels, spot settings and a least-privilege account", async () => {
  const { BurstPool } = await import("../../stacks/burst");
  const before = created.length;
  const pool = new BurstPool("b1", { vms: [vm(1), vm(2)], owner: "alice", policy: policy.burst, network: networkStub() });
  assert.deepEqual(await outputValue(pool.vmNames), ["fleet-burst-20261122t1200-1", "fleet-burst-20261122t1200-2"]);
  await outputValue(pool.serviceAccountEmail);
  await new Promise((r) => setTimeout(r, 50));
  const mine = created.slice(before);
  const instances = mine.filter((c) => c.type === "gcp:compute/instance:Instance");
  assert.equal(instances.length, 2);
  for (const inst of instances) {
    assert.deepEqual(inst.inputs.labels, { "managed-by": "fleet", "fleet-stack": "test", "fleet-area": "burst", owner: "alice", "expires-at": "2026-11-22t15-00-00z", "fleet-hour-microusd": "30000" });
    const s = inst.inputs.scheduling;
    assert.equal(s.provisioningModel, "SPOT");
    assert.equal(s.preemptible, true);
    assert.equal(s.automaticRestart, false);
    assert.equal(s.instanceTerminationAction, "DELETE");
    assert.deepEqual(s.maxRunDuration, { seconds: 3 * 3600 });
    assert.equal(inst.inputs.zone, "us-east1-b");
    assert.equal(inst.inputs.machineType, "e2-standard-4");
    // Issue 13: metadataStartupScript is ForceNew in the provider (a template edit recreated every VM).
    assert.equal(inst.inputs.metadataStartupScript, undefined);
    assert.match(inst.inputs.metadata["startup-script"], /guest-attributes\/fleet\/last-busy-at/);
    assert.doesNotMatch(inst.inputs.metadata["startup-script"], /\{\{/);
    // Issue 19: on Fleet's network, no public address (out through Cloud NAT, in through IAP only).
    assert.deepEqual(inst.inputs.networkInterfaces, [{ network: FLEET_NETWORK_LINK }]);
    assert.deepEqual(inst.inputs.tags, ["fleet-iap-ssh"]);
    assert.deepEqual(gcpNetworkViolations({ type: inst.type, props: inst.inputs }), []);
    assert.match(inst.inputs.serviceAccount.email, /^fleet-burst-[0-9a-f]{8}@proj\.iam\.gserviceaccount\.com$/);
  }
  const roles = mine.filter((c) => c.type === "gcp:projects/iAMMember:IAMMember").map((c) => c.inputs.role).sort();
  assert.deepEqual(roles, ["roles/logging.logWriter", "roles/monitoring.metricWriter"]);
  assert.equal(mine.filter((c) => c.type === "gcp:serviceaccount/account:Account").length, 1);
});

test("BurstPool: zero VMs when the desired count is 0", async () => {
  const { BurstPool } = await import("../../stacks/burst");
  const before = created.length;
  const pool = new BurstPool("b0", { vms: [], owner: "alice", policy: policy.burst });
  assert.deepEqual(await outputValue(pool.vmNames), []);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(created.slice(before).map((c) => c.type), ["fleet:burst:BurstPool"], "no instance, no service account, no IAM binding");
});

test("stack program: validates fleet:desired from config and declares it", async () => {
  const { readFleetConfig, defineFleet } = await import("../../stacks/fleet");
  pulumi.runtime.setConfig("fleet:desired", JSON.stringify({ burst: { vms: [vm(7)] } }));
  pulumi.runtime.setConfig("fleet:policy", JSON.stringify({ owner: "bob" }));
  const { desired, policy: p } = readFleetConfig({});
  assert.equal(p.owner, "bob");
  const before = created.length;
  const fleet = defineFleet(desired, p);
  assert.deepEqual(await outputValue(fleet.burst.vmNames), ["fleet-burst-20261122t1200-7"]);
  await new Promise((r) => setTimeout(r, 50));
  // Fleet's network with a Cloud NAT in the VM's region, and the IAP rule as its only ingress.
  const mine = created.slice(before);
  const net = mine.find((c) => c.type === "gcp:compute/network:Network")!;
  assert.match(net.inputs.name, /^fleet-net-[0-9a-f]{10}$/);
  assert.equal(net.inputs.autoCreateSubnetworks, true);
  assert.deepEqual(mine.filter((c) => c.type === "gcp:compute/routerNat:RouterNat").map((c) => c.inputs.region), ["us-east1"]);
  const rules = mine.filter((c) => c.type === "gcp:compute/firewall:Firewall");
  assert.deepEqual(rules.map((r) => [r.inputs.sourceRanges, r.inputs.allows, r.inputs.targetTags]), [[["35.235.240.0/20"], [{ protocol: "tcp", ports: ["22"] }], ["fleet-iap-ssh"]]]);
});

test("stack program: an invalid fleet:desired fails with the field named", async () => {
  const { readFleetConfig } = await import("../../stacks/fleet");
  pulumi.runtime.setConfig("fleet:desired", JSON.stringify({ burst: { vms: [{ ...vm(1), zone: "Nowhere" }] } }));
  assert.throws(() => readFleetConfig({}), /fleet:desired\.burst\.vms\[0\]\.zone: must be a GCP zone/);
});

test("burst.network is refused with the fix: burst VMs run on Fleet's own network", () => {
  const r = FleetPolicySchema.safeParse({ owner: "alice", burst: { network: "default" } });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /no longer set: burst VMs run on Fleet's own network.*delete this field/);
});

// Issue 13: the account id was `${namePrefix}-vm` for every stack of a project, and invalid for
// prefixes that make it shorter than 6 or longer than 30 characters.
test("burst service account id: one per stack, valid for every prefix IAM's definition allows", async () => {
  const { burstAccountId } = await import("../../stacks/burst");
  const { DiscoveryApi } = await import("../doubles/gcp-discovery");
  const iam = new DiscoveryApi("iam.v1");
  const create = iam.route("POST", "/v1/projects/proj/serviceAccounts", new URLSearchParams()).method;
  assert.notEqual(burstAccountId("fleet-burst", "prod"), burstAccountId("fleet-burst", "dev"));
  for (const prefix of ["b", "ab", "fleet-burst", "a-very-long-name-prefix-of-31c", "x-"]) {
    const id = burstAccountId(prefix, "local");
    assert.doesNotThrow(() => iam.checkBody(create, { accountId: id, serviceAccount: { displayName: "x" } }), `${prefix} -> ${id}`);
  }
  // The double refuses what IAM refuses: the old ids for short prefixes.
  assert.throws(() => iam.checkBody(create, { accountId: "b-vm" }), /6-30 characters/);
});
