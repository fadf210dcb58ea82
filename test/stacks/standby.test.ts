import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, outputValue, type Created } from "./mocks";
import { StandbyPolicySchema, type Pair } from "../../reconciler/model";
import { continentOf, standbyRegionFor } from "../../reconciler/standby/geo";
import { gcpHardeningViolations, sshOpenToWorldViolations, requiredLabelViolations } from "../../policies/rules";

let created: Created[];
before(() => {
  created = installMocks();
});

const policy = StandbyPolicySchema.parse({ syncPaths: ["/workspace", "/root/models"] });
const pair = (over: Partial<Pair> = {}): Pair => ({ pairId: "a", state: "running", gpu: { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.42, geolocation: "Germany, DE" }, standby: { target: "gcp" as const, region: standbyRegionFor("Germany, DE", policy.regionByContinent), machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T12:00:00.000Z", ...over });

async function build(name: string, p: Pair) {
  const { StandbyPair } = await import("../../stacks/standby");
  const before = created.length;
  const c = new StandbyPair(name, { pair: p, owner: "alice", policy });
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
  // A default network's pre-made default-allow-ssh (0.0.0.0/0, priority 65534) is shadowed for the
  // standby by a deny rule, and the GPU's allow sits above that deny (lower number wins).
  const deny = res.find((r) => r.type === "gcp:compute/firewall:Firewall" && r.inputs.denies)!;
  assert.deepEqual([deny.inputs.sourceRanges, deny.inputs.denies, deny.inputs.targetTags], [["0.0.0.0/0"], [{ protocol: "tcp", ports: ["22"] }], vm.inputs.tags]);
  assert.ok(fw.inputs.priority < deny.inputs.priority && deny.inputs.priority < 65534);
  assert.deepEqual(fw.inputs.targetTags, vm.inputs.tags);
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
  assert.match(create, /198\.51\.100\.20 ssh-ed25519/, "the standby's host key is pinned for its address");
  assert.doesNotMatch(create, /\{\{/);
  const vm = res.find((r) => r.type === "gcp:compute/instance:Instance")!;
  assert.equal(vm.inputs.metadataStartupScript, undefined, "a startup-script change must not replace the standby VM");
  const md = vm.inputs.metadata;
  assert.ok(SECRET_SIG in md || SECRET_SIG in md["startup-script"], "the startup script (host private key) is a secret");
});

test("StandbyPair: when the GPU is lost the standby and its disk stay (protected); no GPU, no SSH opening", async () => {
  const { c, res } = await build("pair-c", pair({ pairId: "c", state: "gpu-lost", gpu: null }));
  assert.ok(res.find((r) => r.type === "gcp:compute/instance:Instance"), "the standby stays");
  assert.ok(res.find((r) => r.type === "gcp:compute/disk:Disk"), "its disk stays");
  assert.equal((c.dataHolder as unknown as { __protect: boolean }).__protect, true, "the disk cannot be deleted while the pair is gpu-lost");
  assert.equal(res.find((r) => r.type === "pulumi-nodejs:dynamic/fleet:VastInstance"), undefined);
  const rules = res.filter((r) => r.type === "gcp:compute/firewall:Firewall");
  assert.deepEqual(rules.map((r) => Object.keys(r.inputs).includes("allows")), [false], "only the deny rule: nothing may reach it");
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
  const SECRET_SIG = "4dabf18193072939515e22adb298388d";
  assert.ok(SECRET_SIG in standby.inputs.onstart, "the onstart carries the host's private key: a secret");
  assert.match(standby.inputs.onstart.value, /ssh_host_ed25519_key[\s\S]*pkill -HUP -x sshd/);
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
