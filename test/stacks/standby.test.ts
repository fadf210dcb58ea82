import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { FLEET_NETWORK_LINK, installMocks, networkStub, outputValue, type Created } from "./mocks";
import { StandbyPolicySchema, type Pair } from "../../reconciler/model";
import { continentOf, standbyRegionFor } from "../../reconciler/standby/geo";
import { gcpHardeningViolations, gcpNetworkViolations, sshOpenToWorldViolations, requiredLabelViolations } from "../../policies/rules";

let created: Created[];
before(() => {
  created = installMocks();
});

const policy = StandbyPolicySchema.parse({ syncPaths: ["/workspace", "/root/models"] });
const pair = (over: Partial<Pair> = {}): Pair => ({ pairId: "a", state: "running", gpu: { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.42, geolocation: "Germany, DE" }, standby: { target: "gcp" as const, region: standbyRegionFor("Germany, DE", policy.regionByContinent), machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T12:00:00.000Z", ...over });

async function build(name: string, p: Pair) {
  const { StandbyPair } = await import("../../stacks/standby");
  const before = created.length;
  const c = new StandbyPair(name, { pair: p, owner: "alice", policy, network: networkStub() });
  await outputValue(c.diskName);
  await new Promise((r) => setTimeout(r, 100));
  return { c, res: created.slice(before) };
}

test("standby region follows the GPU's continent", () => {
  assert.equal(continentOf("US, CA"), "NA");
  assert.equal(continentOf("Germany, DE"), "EU");
  assert.equal(standbyRegionFor("Japan, JP", policy.regionByContinent), "asia-east1");
  assert.equal(standbyRegionFor("California, US", policy.regionByContinent), "us-central1");
  assert.throws(() => standbyRegionFor("Atlantis", policy.regionByContinent), /cannot tell the continent of the GPU's location 'Atlantis'/);
});

test("StandbyPair: GPU, Spot standby in the GPU's continent, its own data disk, SSH only from the GPU", async () => {
  const { res } = await build("pair-a", pair());
  const vm = res.find((r) => r.type === "gcp:compute/instance:Instance")!;
  assert.equal(vm.inputs.zone, "europe-west1-b");
  assert.equal(vm.inputs.machineType, "e2-medium");
  assert.equal(vm.inputs.scheduling.provisioningModel, "SPOT");
  const disk = res.find((r) => r.type === "gcp:compute/disk:Disk")!;
  assert.equal(disk.inputs.size, 100);
  assert.deepEqual(requiredLabelViolations({ type: disk.type, props: disk.inputs }), []);
  assert.equal(vm.inputs.attachedDisks[0].source, `${disk.name}-id`, "the disk is attached, not the boot disk: it outlives the VM");
  const gpu = res.find((r) => r.type === "pulumi-nodejs:dynamic/fleet:VastInstance")!;
  assert.equal(gpu.inputs.offerId, 101);
  const fw = res.find((r) => r.type === "gcp:compute/firewall:Firewall" && r.inputs.allows)!;
  assert.equal(fw.inputs.sourceRanges.length, 1);
  assert.match(fw.inputs.sourceRanges[0], /\/32$/);
  assert.deepEqual(fw.inputs.allows, [{ protocol: "tcp", ports: ["22"] }]);
  assert.deepEqual(sshOpenToWorldViolations({ type: fw.type, props: fw.inputs }), []);
  // Issue 19: on Fleet's network, whose only rules are Fleet's: the GPU's allow is the one way in,
  // and the standby is the one Fleet VM with a public address (its GPU dials it).
  assert.deepEqual(fw.inputs.targetTags, vm.inputs.tags);
  assert.equal(fw.inputs.network, FLEET_NETWORK_LINK);
  assert.equal(vm.inputs.networkInterfaces[0].network, FLEET_NETWORK_LINK);
  assert.deepEqual(vm.inputs.networkInterfaces[0].accessConfigs, [{}]);
  assert.deepEqual(res.filter((r) => r.type === "gcp:compute/firewall:Firewall").length, 1);
  assert.deepEqual(gcpNetworkViolations({ type: vm.type, props: vm.inputs }), []);
  // Shielded VM, OS Login, the project's ssh keys blocked (reconciler/model/hardening.ts).
  const metadata = vm.inputs.metadata.value ?? vm.inputs.metadata; // a secret: it holds the startup script
  assert.deepEqual(gcpHardeningViolations({ type: vm.type, props: { ...vm.inputs, metadata } }), []);
  const sync = res.find((r) => r.type === "command:remote:Command")!;
  assert.ok(sync, "the sync unit is installed by a remote command");
  // Issue 12: dials to a GPU host are bounded (the provider's default is 10 dials, unbounded time).
  const conn = sync.inputs.connection.value ?? sync.inputs.connection;
  assert.equal(conn.dialErrorLimit, 4);
  assert.equal(conn.perDialTimeout, 15);
});

test("StandbyPair: the private key is a secret; the sync install pins the host key and runs every 30 s", async () => {
  const { c, res } = await build("pair-b", pair({ pairId: "b" }));
  assert.equal(await pulumi.isSecret(c.privateKey), true);
  const sync = res.find((r) => r.type === "command:remote:Command")!;
  // The install command carries the private key, so it reaches the engine as a secret value.
  const SECRET_SIG = "4dabf18193072939515e22adb298388d";
  assert.equal(typeof sync.inputs.create, "object");
  assert.ok(SECRET_SIG in sync.inputs.create, "the install command is a secret");
  const create: string = sync.inputs.create.value;
  assert.match(create, /StrictHostKeyChecking=yes/);
  assert.match(create, /FLEET_SYNC_INTERVAL=30/);
  assert.match(create, /FLEET_SYNC_PATHS="\/workspace \/root\/models"/);
  assert.doesNotMatch(create, /\{\{/);
  const vm = res.find((r) => r.type === "gcp:compute/instance:Instance")!;
  assert.equal(vm.inputs.metadataStartupScript, undefined, "a startup-script change must not replace the standby VM");
  // Issue 19, item 3: no private key in the standby's metadata. It makes its own host key and
  // publishes the public half; Fleet reads it through the API and the GPU pins that.
  const startup: string = vm.inputs.metadata["startup-script"];
  assert.equal(typeof startup, "string");
  assert.doesNotMatch(startup, /PRIVATE KEY/);
  assert.match(startup, /ssh-keygen -q -t ed25519 -N '' -f \/etc\/ssh\/ssh_host_ed25519_key/);
  assert.match(startup, /guest-attributes\/fleet\/host-ed25519/);
  assert.equal(vm.inputs.metadata["enable-guest-attributes"], "TRUE");
  const published = res.find((r) => r.type === "pulumi-nodejs:dynamic/fleet:GuestHostKey")!;
  assert.equal(published.inputs.instanceId, `${vm.name}-instance-id`, "a new VM (a new key) replaces it");
  assert.match(create, new RegExp(`198\\.51\\.100\\.20 ssh-ed25519 AAAAmockhost${published.inputs.instanceName}`), "the key the VM published is pinned for its address");
  assert.equal(res.filter((r) => r.type === "tls:index/privateKey:PrivateKey").length, 2, "the sync key and the GPU's host key: no standby host key made here");
});

test("StandbyPair: when the GPU is lost the standby and its disk stay (protected); no GPU, no SSH opening", async () => {
  const { c, res } = await build("pair-c", pair({ pairId: "c", state: "gpu-lost", gpu: null }));
  assert.ok(res.find((r) => r.type === "gcp:compute/instance:Instance"), "the standby stays");
  assert.ok(res.find((r) => r.type === "gcp:compute/disk:Disk"), "its disk stays");
  assert.equal((c.dataHolder as unknown as { __protect: boolean }).__protect, true, "the disk cannot be deleted while the pair is gpu-lost");
  assert.equal(res.find((r) => r.type === "pulumi-nodejs:dynamic/fleet:VastInstance"), undefined);
  const rules = res.filter((r) => r.type === "gcp:compute/firewall:Firewall");
  assert.deepEqual(rules, [], "no rule: on Fleet's network nothing may reach it");
  const running = await build("pair-d", pair({ pairId: "d" }));
  assert.equal((running.c.dataHolder as unknown as { __protect: boolean }).__protect, false);
});

test("StandbyPair, target vast: the standby is a Vast CPU instance (no GCP resources); the GPU syncs to its ssh port with its host key pinned", async () => {
  const vastPair = pair({ pairId: "v", standby: { target: "vast", offerId: 202, dphUsd: 0.04, geolocation: "US, TX", diskGb: 100 } });
  const { c, res } = await build("pair-v", vastPair);
  assert.deepEqual(res.filter((r) => r.type.startsWith("gcp:")), [], "no VM, disk or firewall on GCP");
  const vast = res.filter((r) => r.type === "pulumi-nodejs:dynamic/fleet:VastInstance");
  const standby = vast.find((r) => r.inputs.role === "standby")!;
  assert.equal(standby.inputs.offerId, 202);
  assert.equal(standby.inputs.diskGb, 100);
  assert.equal(standby.inputs.image, "ubuntu:22.04");
  // Issue 19, item 3: no private key in an onstart. Each host key reaches its instance through
  // Vast's API in the instance's environment, a secret; the onstart holds public keys only.
  const SECRET_SIG = "4dabf18193072939515e22adb298388d";
  const gpu = vast.find((r) => r.inputs.role !== "standby")!;
  for (const inst of [standby, gpu]) {
    assert.equal(typeof inst.inputs.onstart, "string");
    assert.doesNotMatch(inst.inputs.onstart, /PRIVATE KEY|mock-pair-v/);
    assert.ok(SECRET_SIG in inst.inputs.env, "the environment is a secret");
    const hostKey = Buffer.from(inst.inputs.env.value.FLEET_HOST_KEY, "base64").toString("utf8");
    assert.match(hostKey, /^-----BEGIN OPENSSH PRIVATE KEY-----\nmock-pair-v-(gpu-)?host-key\n/);
  }
  assert.match(standby.inputs.onstart, /base64 -d \| install -m 600 \/dev\/stdin \/etc\/ssh\/ssh_host_ed25519_key[\s\S]*pkill -HUP -x sshd/);
  // The pair's key may run the sync and nothing else on the standby.
  assert.match(standby.inputs.onstart, /^line='restrict,command="\/usr\/local\/bin\/fleet-sync-serve" ssh-ed25519 AAAAmockpair-v-sync-key'$/m);
  // The install on the GPU pins the GPU's host key, which the GPU's onstart installs.
  const conn = res.find((r) => r.type === "command:remote:Command")!.inputs.connection.value;
  assert.equal(conn.hostKey, "ssh-ed25519 AAAAmockpair-v-gpu-host-key");
  assert.match(gpu.inputs.onstart, /^echo 'ssh-ed25519 AAAAmockpair-v-gpu-host-key' > \/etc\/ssh\/ssh_host_ed25519_key\.pub$/m);
  assert.equal(vast.filter((r) => r.inputs.role !== "standby").length, 1, "and the GPU");
  assert.equal(await outputValue(c.diskName), "fleet-standby-v");
  const create: string = res.find((r) => r.type === "command:remote:Command")!.inputs.create.value;
  assert.match(create, /^echo '\[ssh6\.vast\.ai\]:20020 ssh-ed25519 \S+' > \/etc\/fleet\/known_hosts$/m, "known_hosts names the standby's port");
  assert.match(create, /FLEET_SYNC_TARGET="root@ssh6\.vast\.ai:\/data"/);
  assert.match(create, /ssh -p 20020 -i \/root\/\.ssh\/fleet-standby .*StrictHostKeyChecking=yes -o HostKeyAlgorithms=ssh-ed25519/);
  assert.doesNotMatch(create, /\{\{/);
  const lost = await build("pair-vl", { ...vastPair, pairId: "vl", state: "gpu-lost", gpu: null });
  assert.equal((lost.c.dataHolder as unknown as { __protect: boolean }).__protect, true, "the Vast standby holds the only copy: protected while the GPU is lost");
  assert.equal(lost.res.filter((r) => r.type === "pulumi-nodejs:dynamic/fleet:VastInstance").length, 1, "only the standby");
  assert.equal((c.dataHolder as unknown as { __protect: boolean }).__protect, false);
});
