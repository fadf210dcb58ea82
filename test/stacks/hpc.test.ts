import { test, before } from "node:test";
import assert from "node:assert/strict";
import { installMocks, outputValue, type Created } from "./mocks";
import { HpcSpecSchema } from "../../reconciler/model";

let created: Created[];
before(() => {
  created = installMocks();
});

const spec = HpcSpecSchema.parse({
  name: "lab",
  baseImage: "/var/lib/images/base.qcow2",
  network: { cidr: "10.77.0.0/24" },
  controller: { vcpu: 2, memoryMiB: 2048, diskGiB: 20 },
  compute: { count: 3, vcpu: 4, memoryMiB: 4096, diskGiB: 40, gpus: ["0000:3b:00.0", "0000:3c:00.0", "0000:3d:00.0"] },
});

test("HpcCluster: pool, network, and a volume + domain per node, wired for parallel create and ordered delete", async () => {
  const { HpcCluster } = await import("../../stacks/hpc");
  const cluster = new HpcCluster("lab", { spec });
  const nodes = await outputValue(cluster.nodes);
  assert.deepEqual(nodes.map((n) => [n.name, n.role, n.ip]), [
    ["lab-ctl", "controller", "10.77.0.10"],
    ["lab-node-1", "compute", "10.77.0.11"],
    ["lab-node-2", "compute", "10.77.0.12"],
    ["lab-node-3", "compute", "10.77.0.13"],
  ]);
  await new Promise((r) => setTimeout(r, 50));
  const dyn = created.filter((c) => c.type.startsWith("pulumi-nodejs:dynamic/fleet:Libvirt"));
  // The providers were serialized by Pulumi's closure serializer (what the engine would run).
  for (const c of dyn) assert.match(String(c.inputs.__provider), /exports\.handler/);
  const byName = new Map(dyn.map((c) => [c.name, c.inputs]));
  assert.deepEqual([...byName.keys()].sort(), ["lab-ctl", "lab-ctl.qcow2", "lab-net", "lab-node-1", "lab-node-1.qcow2", "lab-node-2", "lab-node-2.qcow2", "lab-node-3", "lab-node-3.qcow2", "lab-pool"]);
  const net = byName.get("lab-net")!;
  assert.equal(net.cidr, "10.77.0.0/24");
  assert.deepEqual(net.hosts.map((h: any) => h.ip), ["10.77.0.10", "10.77.0.11", "10.77.0.12", "10.77.0.13"]);
  assert.equal(new Set(net.hosts.map((h: any) => h.mac)).size, 4, "MACs are unique");
  const ctl = byName.get("lab-ctl")!;
  assert.equal(ctl.vcpu, 2);
  assert.equal(ctl.memoryMiB, 2048);
  assert.equal(ctl.powerState, "running");
  assert.deepEqual(ctl.hostdevs, []);
  assert.deepEqual(byName.get("lab-node-2")!.hostdevs, ["0000:3c:00.0"]);
  assert.equal(byName.get("lab-node-1.qcow2")!.sizeGiB, 40);
  assert.equal(byName.get("lab-node-1")!.diskPath, "/var/lib/libvirt/images/fleet-lab/lab-node-1.qcow2");
});

test("HpcCluster: running=false declares every node shut-off (an update, not a replacement)", async () => {
  const { HpcCluster } = await import("../../stacks/hpc");
  const before = created.length;
  new HpcCluster("lab2", { spec: { ...spec, name: "lab2", running: false } });
  await new Promise((r) => setTimeout(r, 100));
  const domains = created.slice(before).filter((c) => c.inputs.role);
  assert.equal(domains.length, 4);
  assert.ok(domains.every((d) => d.inputs.powerState === "shut-off"));
});
