import { test } from "node:test";
import assert from "node:assert/strict";
import { redact } from "../../reconciler/redact";
import { VastClient } from "../../reconciler/vast/client";
import { sampleOffers, VastDouble } from "../doubles/vast-api";

/** Issue 19, item 5: a Vast error that echoed the Authorization header put the API key into CLI output, logs and the API. */
test("redact: known secret values and credential-shaped fields", () => {
  const key = "vast-secret-key-123456";
  const out = redact(`bad request: headers {Authorization: Bearer ${key}} url ...?api_key=${key}&q=1 token="abc12345xyz" password: hunter2hunter2`, [key]);
  assert.doesNotMatch(out, /vast-secret-key|abc12345xyz|hunter2/);
  assert.match(out, /Authorization: \[redacted\]/);
  assert.equal(redact("x Bearer abcdefgh1234 y"), "x Bearer [redacted] y");
  assert.match(out, /api_key=\[redacted\]&q=1/);
  assert.equal(redact("offer 101 is no longer available"), "offer 101 is no longer available");
});

test("a Vast error echoing the request carries no API key to the caller", async () => {
  const d = new VastDouble(sampleOffers());
  const baseUrl = await d.start();
  try {
    d.failures.push({ status: 400, msg: `invalid request: GET /bundles/?api_key=${d.apiKey} with Authorization: Bearer ${d.apiKey}` });
    const c = new VastClient({ apiKey: d.apiKey, baseUrl, timeoutMs: 2000, retries: 0, backoffMs: 1 });
    const err = await c.searchOffers({ gpuRamMinGb: 20, maxDphUsd: 1, reliabilityMin: 0.9, diskGb: 50 }).catch((e: unknown) => e as Error);
    assert.ok(err instanceof Error);
    assert.match(err.message, /invalid request/);
    assert.ok(!err.message.includes(d.apiKey), err.message);
  } finally {
    await d.stop();
  }
});
