import { test } from "node:test";
import assert from "node:assert/strict";
import { pairLabel, vastInstanceProvider, type VastInstanceInputs } from "../../stacks/providers/vast";
import { VastDouble } from "../doubles/vast-api";

const offer = (id: number, dph: number) => ({ id, gpu_name: "RTX 4090", num_gpus: 1, gpu_ram: 24564, dph_total: dph, reliability: 0.99, disk_space: 200, geolocation: "US, CA" });

async function withVast(fn: (inputs: VastInstanceInputs, d: VastDouble) => Promise<void>) {
  const d = new VastDouble([offer(201, 0.4), offer(202, 0.5)]);
  const apiUrl = await d.start();
  const before = process.env.VAST_API_KEY;
  process.env.VAST_API_KEY = d.apiKey;
  try {
    await fn({ offerId: 201, pairId: "a", image: "pytorch/pytorch:latest", diskGb: 50, onstart: "bash /root/fleet-sync.sh &", apiUrl, pollSeconds: 0.01 }, d);
  } finally {
    process.env.VAST_API_KEY = before;
    await d.stop();
  }
}

test("vast provider: create rents exactly the offer, labelled with its pair; read and delete", async () => {
  await withVast(async (inputs, d) => {
    const r = await vastInstanceProvider.create(inputs);
    assert.equal(r.outs.label, pairLabel("a"));
    assert.equal(d.instances[0].onstart, inputs.onstart);
    assert.doesNotMatch(JSON.stringify(r.outs), /vast-test-key/, "the key is not in the outputs (state)");
    const read = await vastInstanceProvider.read(r.id, r.outs);
    assert.equal(read.id, r.id);
    await vastInstanceProvider.delete(r.id, r.outs);
    assert.equal(d.instances.length, 0);
  });
});

test("vast provider: an instance that disappears reads as gone; one that exited is replaced", async () => {
  await withVast(async (inputs, d) => {
    const r = await vastInstanceProvider.create(inputs);
    d.instances[0].actual_status = "exited";
    const exited = await vastInstanceProvider.read(r.id, r.outs);
    assert.equal((exited.props as any).status, "exited");
    assert.deepEqual((await vastInstanceProvider.diff(r.id, exited.props as any, inputs)).replaces, ["status"]);
    d.instances.length = 0; // destroyed outside fleet
    assert.equal((await vastInstanceProvider.read(r.id, r.outs)).id, "");
  });
});

test("vast provider: an offer gone since the search is an error and nothing else is rented", async () => {
  await withVast(async (inputs, d) => {
    d.offers[0]!.rentable = false;
    await assert.rejects(vastInstanceProvider.create(inputs), /offer 201 is no longer available/);
    assert.equal(d.instances.length, 0);
  });
});

test("vast provider: a second create for the same pair does not rent a second GPU", async () => {
  await withVast(async (inputs, d) => {
    await vastInstanceProvider.create(inputs);
    await assert.rejects(vastInstanceProvider.create({ ...inputs, offerId: 202 }), /pair a already has Vast GPU instance/);
    assert.equal(d.instances.length, 1);
  });
});

test("vast provider, standby role: labelled as the pair's standby; a stopped standby is started in place, never replaced", async () => {
  await withVast(async (gpuInputs, d) => {
    const inputs: VastInstanceInputs = { ...gpuInputs, offerId: 202, role: "standby", image: "ubuntu:22.04" };
    const gpu = await vastInstanceProvider.create(gpuInputs);
    const r = await vastInstanceProvider.create(inputs);
    assert.equal(r.outs.label, "fleet-standby-a", "a standby and its GPU live side by side (different labels)");
    assert.notEqual(r.id, gpu.id);
    d.instances.find((i) => String(i.id) === r.id).actual_status = "stopped";
    const stopped = (await vastInstanceProvider.read(r.id, r.outs)).props as any;
    const diff = await vastInstanceProvider.diff(r.id, stopped, inputs);
    assert.equal(diff.changes, true);
    assert.deepEqual(diff.replaces, [], "its disk holds the only copy: start it, do not rent a new one");
    const updated = await vastInstanceProvider.update(r.id, stopped, inputs);
    assert.equal(updated.outs.status, "loading");
    assert.deepEqual(d.calls.filter((c) => c.method === "PUT" && c.path === `/instances/${r.id}/`).map((c) => c.body), [{ state: "running" }]);
    assert.equal(d.instances.length, 2, "nothing rented, nothing destroyed");
    // A GPU that stopped is still replaced (its work is on the standby).
    d.instances.find((i) => String(i.id) === gpu.id).actual_status = "stopped";
    const gpuStopped = (await vastInstanceProvider.read(gpu.id, gpu.outs)).props as any;
    assert.deepEqual((await vastInstanceProvider.diff(gpu.id, gpuStopped, gpuInputs)).replaces, ["status"]);
  });
});

// Issue 19 changed the onstarts and added an environment. Vast cannot change either in place, and
// replacing a standby deletes its copy (with its GPU replaced in the same update, the only copy).
test("vast provider: a new onstart or environment replaces a GPU but never a standby; the environment goes to Vast", async () => {
  await withVast(async (gpuInputs, d) => {
    const inputs: VastInstanceInputs = { ...gpuInputs, offerId: 202, role: "standby", image: "ubuntu:22.04", env: { FLEET_HOST_KEY: "a2V5" } };
    const r = await vastInstanceProvider.create(inputs);
    const created = d.instances.find((i) => String(i.id) === r.id);
    assert.deepEqual(created.extra_env, [["FLEET_HOST_KEY", "a2V5"]], "sent as the create call's env");
    const changed = { ...inputs, onstart: "echo new", env: { FLEET_HOST_KEY: "b3RoZXI=" } };
    const diff = await vastInstanceProvider.diff(r.id, r.outs, changed);
    assert.deepEqual([diff.changes, diff.replaces], [false, []], "the standby keeps its onstart and its copy");
    const gpu = await vastInstanceProvider.create(gpuInputs);
    assert.deepEqual((await vastInstanceProvider.diff(gpu.id, gpu.outs, { ...gpuInputs, onstart: "echo new" })).replaces, ["onstart"]);
    assert.deepEqual((await vastInstanceProvider.diff(gpu.id, gpu.outs, { ...gpuInputs, env: { A: "1" } })).replaces, ["env"]);
  });
});

test("vast provider: create waits until the instance runs with its ssh endpoint and address", async () => {
  await withVast(async (inputs, d) => {
    d.bootListings = 3; // scheduled (no address), then loading twice, then running
    const r = await vastInstanceProvider.create(inputs);
    assert.equal(r.outs.status, "running");
    assert.equal(r.outs.sshHost, "ssh5.vast.ai");
    assert.ok(r.outs.sshPort > 0);
    assert.equal(r.outs.publicIp, "203.0.113.10");
    assert.ok(d.calls.filter((c) => c.method === "GET" && c.path.startsWith("/v1/instances")).length >= 4, "it polled through the boot");
  });
});

test("vast provider: an instance that exits while booting, or does not run in time, is destroyed and the create fails", async () => {
  await withVast(async (inputs, d) => {
    d.bootListings = 1000;
    const exiting = vastInstanceProvider.create({ ...inputs, pollSeconds: 0.02 });
    await new Promise((r) => setTimeout(r, 60));
    d.instances[0].actual_status = "exited";
    await assert.rejects(exiting, /did not start: it became exited, which never reaches running; destroyed it so it does not bill/);
    assert.equal(d.instances.length, 0);
    d.offers[1]!.rentable = true;
    await assert.rejects(vastInstanceProvider.create({ ...inputs, offerId: 202, bootTimeoutSeconds: 0.1 }), /did not start: it was still loading after 0\.1 s; destroyed it so it does not bill/);
    assert.equal(d.instances.length, 0);
  });
});

test("vast provider: a GPU on its way to running, or briefly offline, is kept; long offline, stopped or exited is replaced", async () => {
  await withVast(async (inputs, d) => {
    d.bootListings = 0;
    const r = await vastInstanceProvider.create(inputs);
    const diffAt = async (status: string | null, downSince: string | null = null) =>
      (await vastInstanceProvider.diff(r.id, { ...r.outs, status: status as string, downSince }, inputs)).replaces;
    for (const s of [null, "created", "loading", "running"]) assert.deepEqual(await diffAt(s), [], String(s));
    d.instances[0].actual_status = "offline";
    const seen = (await vastInstanceProvider.read(r.id, r.outs)).props as any;
    assert.equal(seen.status, "offline");
    assert.ok(Date.now() - Date.parse(seen.downSince) < 60_000, "the refresh notes when it went offline");
    assert.equal(seen.sshHost, "ssh5.vast.ai", "the last known endpoint is kept while it is away");
    assert.deepEqual(await diffAt("offline", seen.downSince), [], "a short offline is not a loss");
    assert.deepEqual(await diffAt("offline", new Date(Date.now() - 11 * 60_000).toISOString()), ["status"]);
    const again = (await vastInstanceProvider.read(r.id, seen)).props as any;
    assert.equal(again.downSince, seen.downSince, "offline since the first refresh that saw it");
    for (const s of ["stopped", "exited", "unknown"]) assert.deepEqual(await diffAt(s), ["status"], s);
  });
});
