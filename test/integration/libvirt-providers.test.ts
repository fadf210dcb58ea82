import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { clusterProblems, planCluster, type ClusterLayout } from "../../reconciler/hpc/layout";
import { gatherClusterFacts } from "../../reconciler/hpc/facts";
import { destroyCluster, provisionCluster, ProvisionError } from "../../reconciler/hpc/provision";
import { sweepLibvirt } from "../../reconciler/hpc/sweep";
import { HpcSpecSchema, type HpcSpec } from "../../reconciler/model";
import { libvirtDomainProvider, libvirtNetworkProvider, libvirtVolumeProvider, type DomainOutputs } from "../../stacks/providers/libvirt";
import { Virsh } from "../../stacks/providers/libvirt-client";
import { URI, domainTypeHere, freeCidr, libvirtSkipReason, scratch } from "../../scripts/lib/libvirt-scratch";
import { REPO, runFleet } from "../helpers";

/** Each test carries the skip, so the runner counts every one as skipped (a suite-level skip counts none). */
const skip = libvirtSkipReason();
const test = (name: string, fn: () => unknown) => nodeTest(name, { skip }, fn as () => Promise<void>);
const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();

function spec(prefix: string, dir: string, baseImage: string, count = 3): HpcSpec {
  return HpcSpecSchema.parse({
    name: prefix,
    uri: URI,
    baseImage,
    pool: { name: `${prefix}-pool`, path: path.join(dir, "pool") },
    network: { cidr: freeCidr() },
    domainType: domainTypeHere(),
    controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 },
    compute: { count, vcpu: 1, memoryMiB: 64, diskGiB: 1 },
    running: true,
  });
}

describe("libvirt providers against the real libvirtd", () => {
  const s = skip ? undefined : scratch();
  let layout: ClusterLayout;
  let hpc: HpcSpec;

  before(() => {
    if (skip) return;
    hpc = spec(s!.prefix, s!.dir, s!.baseImage);
    layout = planCluster(hpc, { stopTimeoutSeconds: 0 });
  });
  after(async () => {
    if (skip) return;
    await sweepLibvirt(URI, s!.prefix);
    fs.rmSync(s!.dir, { recursive: true, force: true });
  });

  test("the spec validates on this host", async () => {
    assert.deepEqual(clusterProblems(hpc, await gatherClusterFacts(hpc)), []);
  });

  test("creates a network, a controller and 3 compute nodes, running, in parallel", async () => {
    const created = await provisionCluster(layout);
    assert.equal(created.filter((c) => c.kind === "domain").length, 4);
    for (const n of layout.nodes) assert.equal(virsh("domstate", n.domain.name), "running");
    assert.deepEqual(virsh("list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).sort(), layout.nodes.map((n) => n.domain.name).sort());
  });

  test("fleet hpc status reads the running cluster from libvirt (no Pulumi)", () => {
    const specFile = path.join(s!.dir, "spec.json");
    fs.writeFileSync(specFile, JSON.stringify(hpc));
    const r = runFleet(["hpc", "status", "--spec", specFile, "--json"], { cwd: REPO });
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout);
    assert.deepEqual(status.nodes.map((n: any) => [n.name, n.state, n.vcpu, n.memoryMiB, n.diskPath]), layout.nodes.map((n) => [n.domain.name, "running", 1, 64, n.domain.diskPath]));
    assert.deepEqual(status.network, { name: layout.network.name, exists: true, active: true });
    const text = runFleet(["hpc", "status", "--spec", specFile], { cwd: REPO });
    assert.match(text.stdout, new RegExp(`${layout.nodes[1]!.domain.name}\\s+compute\\s+running\\s+1\\s+64 MiB`));
  });

  test("read returns what libvirt reports", async () => {
    for (const n of layout.nodes) {
      const r = await libvirtDomainProvider.read(n.domain.name, { ...n.domain, uuid: "", state: "" });
      const p = r.props as DomainOutputs;
      assert.equal(r.id, n.domain.name);
      assert.equal(p.state, "running");
      assert.equal(p.vcpu, 1);
      assert.equal(p.memoryMiB, 64);
      assert.equal(p.mac, n.domain.mac);
      assert.equal(p.network, layout.network.name);
      assert.equal(p.diskPath, n.domain.diskPath);
      assert.deepEqual(await libvirtDomainProvider.diff(n.domain.name, p, n.domain), { changes: false, replaces: [], deleteBeforeReplace: true, stables: ["uri", "name", "role", "domainType", "vcpu", "memoryMiB", "diskPath", "network", "mac", "hostdevs"] });
      const vol = await libvirtVolumeProvider.read(`${n.volume.pool}/${n.volume.name}`, { ...n.volume, path: "", baseFormat: "" });
      assert.equal((vol.props as any).baseImage, s!.baseImage, "the volume is an overlay of the base image");
      assert.equal((vol.props as any).sizeGiB, 1);
    }
    const net = await libvirtNetworkProvider.read(layout.network.name, { ...layout.network, bridge: "", active: false });
    assert.deepEqual((net.props as any).hosts, layout.network.hosts);
    assert.equal((net.props as any).active, true);
  });

  test("a node stopped by hand is seen by read, and update starts it without recreating it", async () => {
    const node = layout.nodes[2]!.domain;
    const uuid = virsh("domuuid", node.name);
    virsh("destroy", node.name);
    const r = await libvirtDomainProvider.read(node.name, { ...node, uuid: "", state: "" });
    const seen = r.props as DomainOutputs;
    assert.equal(seen.state, "shut off");
    assert.equal(seen.powerState, "shut-off");
    const d = await libvirtDomainProvider.diff(node.name, seen, node);
    assert.equal(d.changes, true);
    assert.deepEqual(d.replaces, []);
    const u = await libvirtDomainProvider.update(node.name, seen, node);
    assert.equal(u.outs.state, "running");
    assert.equal(virsh("domuuid", node.name), uuid, "same domain, not recreated");
  });

  test("update changes the power state to shut-off and back in place", async () => {
    const node = layout.nodes[1]!.domain;
    const uuid = virsh("domuuid", node.name);
    const off = await libvirtDomainProvider.update(node.name, { ...node, uuid, state: "running" }, { ...node, powerState: "shut-off" });
    assert.equal(off.outs.state, "shut off");
    assert.equal(virsh("domstate", node.name), "shut off");
    const on = await libvirtDomainProvider.update(node.name, off.outs, node);
    assert.equal(on.outs.state, "running");
    assert.equal(virsh("domuuid", node.name), uuid);
  });

  test("a network host list is updated in place; a volume grows in place", async () => {
    const extra = { name: `${s!.prefix}-extra`, mac: "52:54:00:fe:fe:01", ip: layout.network.hosts[0]!.ip.replace(/\.\d+$/, ".99") };
    const olds = { ...layout.network, bridge: "", active: true };
    const news = { ...layout.network, hosts: [...layout.network.hosts, extra] };
    assert.deepEqual((await libvirtNetworkProvider.diff(layout.network.name, olds, news)).replaces, []);
    await libvirtNetworkProvider.update(layout.network.name, olds, news);
    const read = await libvirtNetworkProvider.read(layout.network.name, olds);
    assert.deepEqual((read.props as any).hosts, news.hosts);

    const vol = layout.nodes[0]!.volume;
    const volOuts = { ...vol, path: "", baseFormat: "qcow2" };
    assert.deepEqual((await libvirtVolumeProvider.diff("", volOuts, { ...vol, sizeGiB: 2 })).replaces, []);
    assert.deepEqual((await libvirtVolumeProvider.diff("", volOuts, { ...vol, sizeGiB: 0 })).replaces, ["sizeGiB"]);
    await libvirtVolumeProvider.update("", volOuts, { ...vol, sizeGiB: 2 });
    assert.equal(((await libvirtVolumeProvider.read("", volOuts)).props as any).sizeGiB, 2);
  });

  test("a node undefined by hand reads as gone", async () => {
    const node = layout.nodes[3]!.domain;
    virsh("destroy", node.name);
    virsh("undefine", node.name);
    const r = await libvirtDomainProvider.read(node.name, { ...node, uuid: "", state: "" });
    assert.equal(r.id, "");
    await libvirtDomainProvider.delete(node.name, { ...node, uuid: "", state: "" }); // idempotent
  });

  test("a create never adopts an existing object", async () => {
    await assert.rejects(libvirtDomainProvider.create(layout.nodes[0]!.domain), /already exists/);
    await assert.rejects(libvirtNetworkProvider.create(layout.network), /already exists/);
  });

  test("destroy removes every domain, volume, the network and the pool", async () => {
    const { failures } = await destroyCluster(layout);
    assert.deepEqual(failures, []);
    assert.equal(virsh("list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).length, 0);
    assert.equal(virsh("net-list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).length, 0);
    assert.equal(virsh("pool-list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).length, 0);
    assert.deepEqual(fs.readdirSync(path.join(s!.dir, "pool")), []);
  });
});

describe("rollback on the real libvirtd", () => {
  const s = skip ? undefined : scratch();
  after(async () => {
    if (skip) return;
    await sweepLibvirt(URI, s!.prefix);
    fs.rmSync(s!.dir, { recursive: true, force: true });
  });

  test("when one node's domain cannot be defined, nothing the attempt made is left", async () => {
    const hpc = spec(s!.prefix, s!.dir, s!.baseImage, 3);
    const layout = planCluster(hpc, { stopTimeoutSeconds: 0 });
    // Someone else's domain already holds node 2's name: libvirt refuses to define ours.
    const squatter = layout.nodes[2]!.domain;
    await new Virsh(URI).withXmlFile(["define"], `<domain type='qemu'><name>${squatter.name}</name><memory unit='MiB'>32</memory><os><type arch='x86_64'>hvm</type></os></domain>`);

    const events: string[] = [];
    await assert.rejects(provisionCluster(layout, { onProgress: (e) => events.push(e) }), (e: Error) => {
      assert.ok(e instanceof ProvisionError);
      assert.match(e.message, new RegExp(`domain ${squatter.name} already exists`));
      assert.deepEqual(e.rollbackFailures, []);
      return true;
    });
    assert.ok(events.some((e) => e.startsWith("created domain")), "other nodes were created before the rollback");
    // Only the squatter remains; no domain, volume, network or pool of the attempt.
    assert.deepEqual(virsh("list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)), [squatter.name]);
    assert.equal(virsh("net-list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).length, 0);
    assert.equal(virsh("pool-list", "--all", "--name").split("\n").filter((n) => n.startsWith(s!.prefix)).length, 0);
    assert.equal(fs.existsSync(path.join(s!.dir, "pool")), false, "the pool directory it created is gone too");
    virsh("undefine", squatter.name);
  });
});
