import { test } from "node:test";
import assert from "node:assert/strict";
import { pairLabel, vastInstanceProvider, type VastInstanceInputs } from "../../stacks/providers/vast";
import { VastDouble } from "../doubles/vast-api";

const offer = (id: number, dph: number) => ({ id, gpu_name: "RTX_4090", num_gpus: 1, gpu_ram: 24564, dph_total: dph, reliability2: 0.99, disk_space: 200, geolocation: "US, CA" });

async function withVast(fn: (inputs: VastInstanceInputs, d: VastDouble) => Promise<void>) {
  const d = new VastDouble([offer(201, 0.4), offer(202, 0.5)]);
  const apiUrl = await d.start();
  const before = process.env.VAST_API_KEY;
  process.env.VAST_API_KEY = d.apiKey;
  try {
    await fn({ offerId: 201, pairId: "a", image: "pytorch/pytorch:latest", diskGb: 50, onstart: "bash /root/fleet-sync.sh &", apiUrl }, d);
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
    await assert.rejects(vastInstanceProvider.create({ ...inputs, offerId: 202 }), /pair a already has Vast instance/);
    assert.equal(d.instances.length, 1);
  });
});
