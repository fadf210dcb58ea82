import { test } from "node:test";
import assert from "node:assert/strict";
import { OfferGoneError, VastClient, VastError } from "../../reconciler/vast/client";
import { sampleOffers, VastDouble, type OfferWire } from "../doubles/vast-api";

const offers: OfferWire[] = sampleOffers();

async function withVast(fn: (c: VastClient, d: VastDouble) => Promise<void>, key = "vast-test-key", timeoutMs = 2000) {
  const d = new VastDouble(structuredClone(offers));
  const baseUrl = await d.start();
  try {
    await fn(new VastClient({ apiKey: key, baseUrl, timeoutMs, retries: 3, backoffMs: 1 }), d);
  } finally {
    await d.stop();
  }
}

test("vast: search sends the documented query and returns typed offers, cheapest first", async () => {
  await withVast(async (c, d) => {
    const found = await c.searchOffers({ gpuRamMinGb: 20, maxDphUsd: 0.5, reliabilityMin: 0.95, diskGb: 50 });
    assert.deepEqual(found.map((o) => o.id), [102, 101]);
    assert.equal(found[0]!.gpuRamGb, 24.564, "MB to GB by 1000, as the CLI's offers_mult");
    // The official CLI's search (vastai/api/offers.py): POST /bundles/ with the query as its body.
    assert.equal(d.calls[0]!.method, "POST");
    assert.equal(d.calls[0]!.path, "/bundles/");
    const q = d.calls[0]!.body;
    assert.deepEqual(q.order, [["dph_total", "asc"]]);
    assert.deepEqual(q.gpu_ram, { gte: 20000 });
    assert.deepEqual([q.verified, q.external, q.rentable, q.rented], [{ eq: true }, { eq: false }, { eq: true }, { eq: false }]);
    assert.deepEqual(q.reliability, { gte: 0.95 });
    assert.equal(q.allocated_storage, 50);
    assert.equal(d.calls[0]!.auth, "Bearer vast-test-key");
  });
});

test("vast: create, list, destroy an instance", async () => {
  await withVast(async (c) => {
    const id = await c.createInstance(101, { image: "pytorch/pytorch:latest", diskGb: 50, onstart: "echo hi", label: "fleet-pair-a" });
    const list = await c.showInstances();
    // Just rented: scheduled, so no actual_status (null) and no address yet.
    assert.deepEqual(list.map((i) => [i.id, i.label, i.status, i.gpuName, i.sshHost]), [[id, "fleet-pair-a", null, "RTX 4090", null]]);
    await c.destroyInstance(id);
    assert.deepEqual(await c.showInstances(), []);
    await c.destroyInstance(id); // already gone: fine
  });
});

test("vast: an offer taken between search and create is reported; nothing else is picked", async () => {
  await withVast(async (c, d) => {
    const [cheapest] = await c.searchOffers({ gpuName: "RTX_4090" });
    d.offers.find((o) => o.id === cheapest!.id)!.rentable = false; // someone else rented it
    await assert.rejects(c.createInstance(cheapest!.id, { image: "i", diskGb: 50, onstart: "", label: "l" }), (e: Error) => e instanceof OfferGoneError && /offer 102 is no longer available/.test(e.message));
    assert.equal(d.calls.filter((x) => x.method === "PUT").length, 1, "no other offer was rented");
    assert.deepEqual(await c.showInstances(), []);
  });
});

test("vast: two creates racing for one offer: only one bills, the other is told", async () => {
  await withVast(async (c) => {
    const results = await Promise.allSettled([c.createInstance(104, { image: "i", diskGb: 50, onstart: "", label: "a" }), c.createInstance(104, { image: "i", diskGb: 50, onstart: "", label: "b" })]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    assert.ok(results.some((r) => r.status === "rejected" && r.reason instanceof OfferGoneError));
    assert.equal((await c.showInstances()).length, 1);
  });
});

test("vast: 429 and 500 are retried with backoff", async () => {
  await withVast(async (c, d) => {
    d.failures.push({ status: 429 }, { status: 500 });
    assert.equal((await c.searchOffers({})).length, 4);
    assert.equal(d.calls.length, 3);
  });
});

test("vast: persistent 503 gives up with the status", async () => {
  await withVast(async (c, d) => {
    d.failures.push({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    await assert.rejects(c.showInstances(), (e: Error) => e instanceof VastError && e.status === 503);
    assert.equal(d.calls.length, 4, "1 try + 3 retries");
  });
});

test("vast: a timeout is retried, then reported", async () => {
  await withVast(
    async (c, d) => {
      d.failures.push({ delayMs: 400 });
      assert.equal((await c.showInstances()).length, 0, "the retry after one slow answer succeeds");
      d.failures.push({ delayMs: 400 }, { delayMs: 400 }, { delayMs: 400 }, { delayMs: 400 });
      await assert.rejects(c.showInstances(), /no answer within 150 ms/);
    },
    "vast-test-key",
    150,
  );
});

test("vast: 401 is a clear error at once, and the key is never in it", async () => {
  await withVast(async (c, d) => {
    await assert.rejects(c.searchOffers({}), (e: Error) => {
      assert.match(e.message, /Vast\.ai rejected the API key \(401\): check VAST_API_KEY/);
      assert.doesNotMatch(e.message + (e.stack ?? ""), /wrong-secret-key/);
      return true;
    });
    assert.equal(d.calls.length, 1, "no retry on 401");
  }, "wrong-secret-key");
});

test("vast: a malformed response names the field", async () => {
  await withVast(async (c, d) => {
    d.offers.push({ ...offers[0]!, id: 105, dph_total: -1 } as OfferWire);
    // One bad offer is skipped; the search goes on with the others.
    assert.deepEqual((await c.searchOffers({ gpuName: "RTX_4090", maxDphUsd: 100 })).map((o) => o.id), [102, 101]);
    d.offers = [{ ...offers[0]!, id: 106, dph_total: -1 } as OfferWire];
    await assert.rejects(c.searchOffers({ gpuName: "RTX_4090", maxDphUsd: 100 }), /malformed offers: offers\[\]\.dph_total/);
  });
});

test("vast: no key is an error naming the setting", () => {
  assert.throws(() => new VastClient({ apiKey: "" }), /set VAST_API_KEY/);
});

// Issue 13: the search matched names exactly (Vast's have spaces), left the CLI's default filters and
// the rented disk out, converted GB by 1024, used the older GET form and the v0 instance list.
test("vast: RTX_4090 finds \"RTX 4090\"; an unverified, external or rented offer is left out; the rented disk is priced", async () => {
  await withVast(async (c, d) => {
    d.offers.push({ ...offers[0]!, id: 110, verified: false }, { ...offers[0]!, id: 111, external: true }, { ...offers[0]!, id: 112, rented: true });
    d.offers.push({ ...offers[0]!, id: 113, dph_total: 0.3, storage_cost: 7.2 });
    const found = await c.searchOffers({ gpuName: "RTX_4090", gpuRamMinGb: 20, maxDphUsd: 2, reliabilityMin: 0.95, diskGb: 100 });
    assert.deepEqual(found.map((o) => o.id), [102, 101, 113]);
    assert.ok(found.every((o) => o.gpuName === "RTX 4090"));
    assert.equal(found.find((o) => o.id === 113)!.dphUsd, 1.3, "$0.30/h plus 100 GB at $7.20/GB/month");
  });
});

test("vast: the search body is checked against Vast's OpenAPI document; GET /bundles/ is refused", async () => {
  const { bundlesRefusal } = await import("../doubles/vast-api");
  assert.equal(bundlesRefusal({ limit: 5, type: "on-demand", order: [["dph_total", "asc"]] }), null);
  assert.match(bundlesRefusal({ limit: "five" }) ?? "", /\/limit must be integer/);
  assert.match(bundlesRefusal({ order: [["dph_total"]] }) ?? "", /\/order\/0 must NOT have fewer than 2 items/);
  assert.match(bundlesRefusal({ type: "spot" }) ?? "", /\/type must be equal to one of the allowed values/);
  await withVast(async (_c, d) => {
    const r = await fetch(`${d.baseUrl}/bundles/?q={}`, { headers: { authorization: `Bearer ${d.apiKey}` } });
    assert.equal(r.status, 405);
  });
});

test("vast: instances come from the paged v1 list, every page", async () => {
  await withVast(async (c, d) => {
    for (let i = 0; i < 60; i++) d.instances.push({ id: 5000 + i, actual_status: "running", label: `x-${i}`, gpu_name: "RTX 4090", dph_total: 0.1 });
    const all = await c.showInstances();
    assert.equal(all.length, 60);
    const pages = d.calls.filter((x) => x.method === "GET" && x.path.startsWith("/v1/instances/"));
    assert.equal(pages.length, 3, "25 + 25 + 10");
  });
});

test("vast: offers from a server that ignores the filters are re-checked here: nothing outside the limits comes back", async () => {
  const { sampleCpuOffers } = await import("../doubles/vast-api");
  const { chooseOffer } = await import("../../reconciler/decide/standby");
  await withVast(async (c, d) => {
    d.ignoreFilters = true;
    d.offers.push(...sampleCpuOffers());
    const gpus = await c.searchOffers({ gpuName: "RTX_4090", gpuRamMinGb: 20, maxDphUsd: 0.4, reliabilityMin: 0.95, diskGb: 100 });
    assert.deepEqual(gpus.map((o) => o.id), [102], "101 is above $0.40/h; 103/104 are other GPUs; the CPU hosts have none");
    const one = await c.searchOffers({ offerId: 104 });
    assert.deepEqual(one.map((o) => o.id), [104], "a lookup by id answers that offer only");
    const hosts = await c.searchCpuOffers({ cpuCoresMin: 2, ramGbMin: 8, diskGb: 100, maxDphUsd: 0.05, reliabilityMin: 0.98, cpuOnly: true });
    assert.deepEqual(hosts.map((o) => o.id), [202], "201 is above $0.05/h, 203 has 1 core, 204 has a GPU");
    // The policy's RTX_4090 (as the README writes it) picks Vast's "RTX 4090".
    const policy = { gpuName: "RTX_4090", gpuRamMinGb: 20, maxDphUsd: 1, reliabilityMin: 0.9, diskGb: 50, image: "x" } as never;
    assert.equal(chooseOffer(await c.searchOffers({ gpuName: "RTX_4090" }), policy)?.id, 102);
  });
});
