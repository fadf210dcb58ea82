import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterProblems, nodeMac, planCluster, type ClusterFacts } from "../../reconciler/hpc/layout";
import { parseCidr } from "../../reconciler/hpc/ipv4";
import { HpcSpecSchema, type HpcSpec } from "../../reconciler/model";
import { domainXml, networkXml } from "../../stacks/providers/libvirt";

const spec = (over: Record<string, any> = {}): HpcSpec =>
  HpcSpecSchema.parse({
    name: "lab",
    baseImage: "/img/base.qcow2",
    controller: { vcpu: 1, memoryMiB: 512, diskGiB: 10 },
    compute: { count: 2, vcpu: 2, memoryMiB: 1024, diskGiB: 10 },
    ...over,
  });

const facts = (over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  baseImage: { readable: true, format: "qcow2", virtualSizeGiB: 2 },
  freeDiskGiB: 100,
  hostCpus: 8,
  hostMemoryMiB: 16384,
  otherNetworks: [{ name: "default", cidr: "192.168.122.0/24" }],
  usedMacs: [],
  existing: { domains: [], network: false, pool: false, volumes: [] },
  ...over,
});

test("hpc layout: names, fixed addresses and MACs are deterministic and unique", () => {
  const l = planCluster(spec());
  assert.deepEqual(l.nodes.map((n) => [n.domain.name, n.ip, n.domain.role]), [["lab-ctl", "10.77.0.10", "controller"], ["lab-node-1", "10.77.0.11", "compute"], ["lab-node-2", "10.77.0.12", "compute"]]);
  assert.deepEqual(planCluster(spec()), l);
  assert.equal(new Set(l.nodes.map((n) => n.domain.mac)).size, 3);
  assert.notEqual(nodeMac("lab", 0), nodeMac("lab2", 0));
  assert.match(nodeMac("lab", 1), /^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:01$/);
  const s = parseCidr("10.77.0.0/24");
  assert.deepEqual([s.gateway, s.netmask, s.rangeStart, s.rangeEnd], ["10.77.0.1", "255.255.255.0", "10.77.0.128", "10.77.0.254"]);
});

test("hpc validation: a good spec has no problems", () => {
  assert.deepEqual(clusterProblems(spec(), facts()), []);
});

const cases: [string, Record<string, any>, Partial<ClusterFacts>, RegExp][] = [
  ["unreadable base image", {}, { baseImage: { readable: false, error: "ENOENT" } }, /hpc\.baseImage: \/img\/base\.qcow2 is not a readable disk image \(ENOENT\)/],
  ["unsupported image format", {}, { baseImage: { readable: true, format: "vmdk", virtualSizeGiB: 1 } }, /hpc\.baseImage: format vmdk is not supported/],
  ["disk smaller than the base image", { compute: { count: 1, vcpu: 1, memoryMiB: 512, diskGiB: 1 } }, {}, /hpc\.compute\.diskGiB: 1 GiB is smaller than the base image \(2\.0 GiB\)/],
  ["not enough free disk", {}, { freeDiskGiB: 20 }, /may grow to 30 GiB but .* has 20\.0 GiB free/],
  ["more vCPUs than the host", { controller: { vcpu: 16, memoryMiB: 512, diskGiB: 10 } }, {}, /hpc\.controller\.vcpu: 16 vCPUs is more than this host has \(8\)/],
  ["more memory than the host", { compute: { count: 1, vcpu: 1, memoryMiB: 32768, diskGiB: 10 } }, {}, /hpc\.compute\.memoryMiB: 32768 MiB is more than this host has/],
  ["network overlaps another", { network: { cidr: "192.168.122.0/25" } }, {}, /overlaps libvirt network default/],
  ["network too small", { network: { cidr: "10.1.0.0/28" }, compute: { count: 5, vcpu: 1, memoryMiB: 512, diskGiB: 10 } }, {}, /has room for 0 fixed addresses below its DHCP range, the cluster needs 6/],
  ["MAC in use elsewhere", {}, { usedMacs: [{ domain: "someone", mac: nodeMac("lab", 1) }] }, /MAC .* is used by domain someone/],
  ["count outside min/max", { compute: { count: 5, min: 1, max: 4, vcpu: 1, memoryMiB: 512, diskGiB: 10 } }, {}, /hpc\.compute\.count: must be <= compute\.max \(4\)/],
  ["too few GPUs", { compute: { count: 2, vcpu: 1, memoryMiB: 512, diskGiB: 10, gpus: ["0000:3b:00.0"] } }, {}, /lists 1 PCI devices for 2 compute nodes/],
  ["a GPU twice", { compute: { count: 2, vcpu: 1, memoryMiB: 512, diskGiB: 10, gpus: ["0000:3b:00.0", "0000:3b:00.0"] } }, {}, /0000:3b:00\.0 more than once/],
];
for (const [name, over, f, want] of cases) {
  test(`hpc validation: ${name}`, () => {
    const problems = clusterProblems(spec(over), facts(f));
    assert.ok(problems.some((p) => want.test(`${p.field}: ${p.message}`)), JSON.stringify(problems));
  });
}

test("hpc validation: every problem is listed at once", () => {
  const problems = clusterProblems(spec({ controller: { vcpu: 64, memoryMiB: 999999, diskGiB: 10 } }), facts({ baseImage: { readable: false }, freeDiskGiB: 1 }));
  assert.ok(problems.length >= 4, JSON.stringify(problems));
});

test("hpc spec schema: bad names, URIs, PCI addresses and sizes name their field", () => {
  const r = HpcSpecSchema.safeParse({ name: "Lab!", uri: "http://x", baseImage: "rel.qcow2", controller: { vcpu: 0, memoryMiB: 10, diskGiB: 1 }, compute: { count: 1, vcpu: 1, memoryMiB: 64, diskGiB: 1, gpus: ["3b:00.0"] } });
  assert.equal(r.success, false);
  const fields = r.error!.issues.map((i) => i.path.join("."));
  for (const f of ["name", "uri", "baseImage", "controller.vcpu", "controller.memoryMiB", "compute.gpus.0"]) assert.ok(fields.includes(f), `${f} in ${fields}`);
});

test("hpc templates: values are XML-escaped and passthrough devices rendered", () => {
  const l = planCluster(spec({ compute: { count: 1, vcpu: 1, memoryMiB: 512, diskGiB: 10, gpus: ["0000:3b:00.1"] } }));
  const xml = domainXml({ ...l.nodes[1]!.domain, diskPath: "/a&b/<x>.qcow2" });
  assert.match(xml, /<source file='\/a&amp;b\/&lt;x&gt;\.qcow2'\/>/);
  assert.match(xml, /<address domain='0x0000' bus='0x3b' slot='0x00' function='0x1'\/>/);
  assert.doesNotMatch(xml, /\{\{/);
  assert.throws(() => domainXml({ ...l.nodes[0]!.domain, hostdevs: ["0000:3b:00.0"] }), /compute nodes only/);
  const net = networkXml(l.network);
  assert.match(net, /<range start='10\.77\.0\.128' end='10\.77\.0\.254'\/>/);
  assert.match(net, new RegExp(`<host mac='${l.nodes[1]!.domain.mac}' name='lab-node-1' ip='10.77.0.11'/>`));
});

test("hpc spec: only local, ssh or tls libvirt transports; names and paths that virsh, qemu-img and a shell take as given", () => {
  const base = { name: "lab", baseImage: "/var/lib/images/base.qcow2", controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 }, compute: { count: 1, vcpu: 1, memoryMiB: 64, diskGiB: 1 } };
  const fields = (over: Record<string, unknown>) => {
    const r = HpcSpecSchema.safeParse({ ...base, ...over });
    return r.success ? [] : r.error.issues.map((i) => i.path.join("."));
  };
  for (const uri of ["qemu:///system", "qemu:///session", "test:///default", "qemu+ssh://admin@lab-host/system", "qemu+tls://lab-host:16514/system", "qemu+unix:///system"]) assert.deepEqual(fields({ uri }), [], uri);
  for (const uri of ["qemu+ext:///system?command=/tmp/evil", "qemu+ext://x/system", "qemu+tcp://host/system", "qemu+ssh://host/system?command=/tmp/evil", "qemu+ssh://-oProxyCommand=x/system"]) assert.deepEqual(fields({ uri }), ["uri"], uri);
  assert.deepEqual(fields({ pool: { name: "--help", path: "/var/lib/libvirt/images/lab" } }), ["pool.name"]);
  for (const baseImage of ["/var/lib/../../etc/shadow", "/var/lib/./x.qcow2", "/var//x.qcow2", "/var/lib/a b.qcow2", "/var/lib/$(id).qcow2", "relative.qcow2"]) assert.deepEqual(fields({ baseImage }), ["baseImage"], baseImage);
  assert.deepEqual(fields({ pool: { path: "/srv/../etc" } }), ["pool.path"]);
});
