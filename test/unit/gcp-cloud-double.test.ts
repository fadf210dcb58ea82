import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { GcpCloud } from "../doubles/gcp-cloud";
import { GcpBurstReader, burstFilter } from "../../reconciler/signals/burst-gcp";

/**
 * The GCP double the engine tests' gcp plugin talks to refuses what Google's discovery documents
 * refuse, and the burst area's live reader (reconciler/signals/burst-gcp.ts) reads it as it would
 * read Compute Engine. In process: no engine needed.
 */
const cloud = new GcpCloud();
let base = "";
const auth = { project: cloud.project, token: cloud.token };
const call = async (method: string, rel: string, body?: unknown) => {
  const r = await fetch(`${base}compute/v1/${rel}`, { method, headers: { authorization: `Bearer ${cloud.token}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as any };
};
const P = `projects/${cloud.project}`;
const vm = (name: string, labels: Record<string, string>, over: Record<string, unknown> = {}) => ({
  name,
  machineType: `zones/us-central1-a/machineTypes/e2-standard-4`,
  disks: [{ boot: true, autoDelete: true, initializeParams: { sourceImage: "projects/debian-cloud/global/images/family/debian-12", diskSizeGb: "20" } }],
  networkInterfaces: [{ network: `${P}/global/networks/default`, accessConfigs: [{ type: "ONE_TO_ONE_NAT" }] }],
  scheduling: { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "DELETE", maxRunDuration: { seconds: "10800" } },
  metadata: { items: [{ key: "enable-guest-attributes", value: "TRUE" }] },
  labels,
  ...over,
});

before(async () => {
  base = await cloud.start();
});
after(() => cloud.stop());

test("the double refuses what Compute Engine's definition refuses", async () => {
  const insert = (body: unknown) => call("POST", `${P}/zones/us-central1-a/instances`, body);
  const refused = async (body: unknown, re: RegExp) => {
    const r = await insert(body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.match(r.json.error.message, re);
  };
  await refused(vm("a1", {}, { machineTyp: "x" }), /Unknown name "machineTyp" at 'resource'/);
  await refused(vm("a1", {}, { scheduling: { provisioningModel: "CHEAP" } }), /Must be one of FLEX_START, RESERVATION_BOUND, SPOT, STANDARD/);
  await refused(vm("A_1", {}), /RFC 1035/);
  await refused(vm("a1", {}, { machineType: "e2-standard-4" }), /Must be a URL to a valid Compute resource/);
  await refused(vm("a1", {}, { scheduling: { maxRunDuration: { seconds: "3h" } } }), /Expected an integer/);
  await refused(vm("a1", { Owner: "x" }), /label key 'Owner'/);
  await refused(vm("a1", {}, { scheduling: { provisioningModel: "SPOT", automaticRestart: true } }), /Spot VMs must not restart automatically/);
  // A query parameter the method does not define (aggregatedList has no returnPartialSuccess).
  const q = await call("GET", `${P}/aggregated/instances?returnPartialSuccess=true`);
  assert.equal(q.status, 400);
  assert.match(q.json.error.message, /Unknown name "returnPartialSuccess"/);
  assert.equal(cloud.instances().length, 0, "nothing refused was created");
});

test("the burst reader lists this stack's live burst VMs with their creation and last busy time, across pages", async () => {
  const labels = (stack: string, area = "burst") => ({ "managed-by": "fleet", "fleet-area": area, "fleet-stack": stack });
  for (const [name, l] of [["b1", labels("s1")], ["b2", labels("s1")], ["b3", labels("s1")], ["other", labels("s2")], ["pool", labels("s1", "pool")]] as const) {
    const r = await call("POST", `${P}/zones/us-central1-a/instances`, vm(name, l));
    assert.equal(r.status, 200, JSON.stringify(r.json));
  }
  await call("POST", `${P}/zones/us-central1-a/instances/b3/stop`);
  cloud.setGuestAttribute("b1", "fleet", "last-busy-at", "2026-12-02T07:00:00Z");
  cloud.pageSize = 1;
  const reader = new GcpBurstReader(auth, `${base}compute/v1/`, "s1");
  const { burst } = await reader.actual();
  assert.deepEqual(burst!.map((v) => [v.name, v.zone, v.machineType, v.lastBusyAt]), [
    ["b1", "us-central1-a", "e2-standard-4", "2026-12-02T07:00:00.000Z"],
    ["b2", "us-central1-a", "e2-standard-4", null],
  ]);
  assert.ok(burst!.every((v) => !Number.isNaN(Date.parse(v.createdAt))));
  assert.match(burstFilter("s1"), /^\(labels\.managed-by = "fleet"\) AND \(labels\.fleet-area = "burst"\) AND \(labels\.fleet-stack = "s1"\)$/);

  // A preempted VM (DELETE) is simply gone for the next read.
  cloud.preempt("b2");
  assert.deepEqual((await reader.actual()).burst!.map((v) => v.name), ["b1"]);
});

test("the burst reader fails (the cycle fails closed) when GCP refuses the list", async () => {
  cloud.pageSize = 500;
  const reader = new GcpBurstReader({ ...auth, token: "wrong" }, `${base}compute/v1/`, "s1");
  await assert.rejects(reader.actual(), /401/);
});
