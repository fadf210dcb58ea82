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
    assert.equal(found[0]!.gpuRamGb, 24564 / 1024);
    const q = JSON.parse(new URL(`http://x${d.calls[0]!.path}`).searchParams.get("q")!);
    assert.deepEqual(q.order, [["dph_total", "asc"]]);
    assert.deepEqual(q.gpu_ram, { gte: 20480 });
    assert.equal(d.calls[0]!.auth, "Bearer vast-test-key");
  });
});

test("vast: create, list, destroy an instance", async () => {
  await withVast(async (c) => {
    const id = await c.createInstance(101, { image: "pytorch/pytorch:latest", diskGb: 50, onstart: "echo hi", label: "fleet-pair-a" });
    const list = await c.showInstances();
    // Just rented: scheduled, so no actual_status (null) and no address yet.
    assert.deepEqual(list.map((i) => [i.id, i.label, i.status, i.gpuName, i.sshHost]), [[id, "fleet-pair-a", null, "RTX_4090", null]]);
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
    await assert.rejects(c.searchOffers({ gpuName: "RTX_4090", maxDphUsd: 100 }), /malformed offers: offers\[\d\.dph_total\]/);
  });
});

test("vast: no key is an error naming the setting", () => {
  assert.throws(() => new VastClient({ apiKey: "" }), /set VAST_API_KEY/);
});
