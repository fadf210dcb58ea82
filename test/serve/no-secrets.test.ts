import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { InjectOptions } from "fastify";
import { auth, startHarness } from "./harness";

// Secrets shaped like real ones (base64url tokens, Vast keys are hex): long enough not to occur by chance.
const secret = fc.stringMatching(/^[A-Za-z0-9_-]{24,48}$/);

test("property: no API response (body or header) and no log line contains the API token or the Vast key", async () => {
  await fc.assert(
    fc.asyncProperty(secret, secret, fc.integer({ min: 100, max: 110 }), fc.string({ maxLength: 40 }), async (token, vastKey, offerId, junk) => {
      fc.pre(token !== vastKey);
      const h = await startHarness({ token, vastKey });
      try {
        const seen: string[] = [];
        const call = async (o: string | InjectOptions) => {
          const r = await h.app.inject(o);
          seen.push(r.body, JSON.stringify(r.headers));
          return r;
        };
        await call("/health");
        await call("/api/status");
        await call("/api/decisions?limit=3");
        await call("/api/switches");
        await call("/api/costs");
        await call("/api/prices");
        await call(`/api/prices?pool=${encodeURIComponent(junk)}`);
        await call("/api/gpu/offers");
        const plan = (await call("/api/plan")).json();
        // Wrong and right tokens, bad bodies (some carrying the secrets themselves as values).
        await call({ method: "POST", url: "/api/mode", payload: { area: "pool", mode: token }, headers: auth(vastKey) });
        await call({ method: "POST", url: "/api/mode", payload: { area: vastKey, mode: "manual" }, headers: auth(token) });
        await call({ method: "POST", url: "/api/gpu/boot", payload: { offerId: vastKey }, headers: auth(token) });
        await call({ method: "POST", url: "/api/gpu/destroy", payload: { pairId: "none-such" }, headers: auth(token) });
        const boot = (await call({ method: "POST", url: "/api/gpu/boot", payload: { offerId }, headers: auth(token) })).json();
        if (boot.job) {
          await h.jobs.settled(boot.job);
          await call(`/api/jobs/${boot.job}`);
        }
        const approve = (await call({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth(token) })).json();
        if (approve.job) {
          await h.jobs.settled(approve.job);
          await call(`/api/jobs/${approve.job}`);
        }
        const all = seen.join("\n") + h.logs.join("\n");
        assert.ok(h.logs.length > 0, "the server logged something");
        assert.ok(!all.includes(token), "the API token leaked");
        assert.ok(!all.includes(vastKey), "the Vast key leaked");
      } finally {
        await h.close();
      }
    }),
    { numRuns: 15 },
  );
});
