import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { EngineMissingError } from "../../reconciler/errors";
import { recordedFailure } from "../doubles/engine-events";
import { auth, setStaleReason, startHarness, TOKEN } from "./harness";

test("api: health, status of every area, decisions, switches, costs against the budget", async () => {
  const h = await startHarness();
  try {
    assert.equal((await h.app.inject("/health")).json().ok, true);
    const s = (await h.app.inject("/api/status")).json();
    assert.deepEqual(s.burst.vms.map((v: { name: string; uptimeS: number; costUsd: number }) => [v.name, v.uptimeS, v.costUsd]), [["fleet-burst-a1", 7200, 0.08]]);
    assert.equal(s.pool.key, "gcp/us-central1//n2-standard-4");
    assert.equal(s.pool.switches.length, 1);
    assert.equal(s.standby.connected, true);
    assert.equal(s.standby.pairs[0].gpu.instanceId, 7001);
    assert.equal(s.standby.pairs[0].costSoFarUsd, 1.26, "3 h x $0.42");
    assert.deepEqual(s.hpc.nodes.map((n: { name: string; state: string }) => [n.name, n.state]), [["lab-controller", "running"], ["lab-compute-1", "shut off"]]);
    assert.deepEqual(s.spend, { totalUsd: 1.34, burstUsd: 0.08, dailyBudgetUsd: 5, byArea: { burst: 0.08, standby: 1.26 } });
    assert.equal(s.modes.pool.mode, "auto");

    const d = (await h.app.inject("/api/decisions?area=pool&limit=5")).json();
    assert.equal(d.decisions[0].kind, "switch");
    assert.deepEqual((await h.app.inject("/api/decisions?area=burst")).json().decisions, []);
    assert.equal((await h.app.inject("/api/switches")).json().switches.length, 1);
    const c = (await h.app.inject("/api/costs?days=2")).json();
    assert.equal(c.days.length, 2);
    assert.equal(c.dailyBudgetUsd, 5);
    assert.equal(c.today.totalUsd, 1.34);
  } finally {
    await h.close();
  }
});

test("api: bad queries are 400 naming the field", async () => {
  const h = await startHarness();
  try {
    for (const [url, field] of [
      ["/api/decisions?area=gpu", "query.area"],
      ["/api/decisions?limit=0", "query.limit"],
      ["/api/decisions?limit=abc", "query.limit"],
      ["/api/decisions?colour=red", "query"],
      ["/api/prices?pool=not-a-pool", "query.pool"],
      ["/api/prices?pool=gcp/us-central1//nope-1", "query.pool"],
      ["/api/costs?days=400", "query.days"],
      ["/api/gpu/offers?maxPrice=-1", "query.maxPrice"],
    ] as const) {
      const r = await h.app.inject(url);
      assert.equal(r.statusCode, 400, url);
      assert.ok(r.json().problems.some((p: { field: string }) => p.field === field), `${url}: ${JSON.stringify(r.json())}`);
    }
  } finally {
    await h.close();
  }
});

test("api: prices of a pool with its forecast; without a pool, the pools on offer", async () => {
  const h = await startHarness();
  try {
    const p = (await h.app.inject("/api/prices?hours=24")).json();
    assert.equal(p.pool, "gcp/us-central1//n2-standard-4", "the desired pool by default");
    assert.equal(p.points.length, 25);
    assert.equal(p.forecast.horizonHours, 1);
    assert.ok(p.forecast.price > 0.04 && p.forecast.price < 0.07);
    const other = (await h.app.inject("/api/prices?pool=gcp/europe-west1//n2-standard-4")).json();
    assert.equal(other.points[0].spotHourUsd, 0.06);
  } finally {
    await h.close();
  }
});

test("api: every mutating route needs the token (401 without, with a wrong one, with a non-Bearer scheme)", async () => {
  const h = await startHarness();
  try {
    const routes = [["/api/plan/approve", { planAt: "x" }], ["/api/plan/reject", { planAt: "x" }], ["/api/gpu/boot", { offerId: 102 }], ["/api/gpu/destroy", { pairId: "train" }], ["/api/mode", { area: "pool", mode: "manual" }]] as const;
    for (const [url, payload] of routes) {
      for (const headers of [{}, auth("wrong-token"), { authorization: `Basic ${TOKEN}` }, auth(TOKEN + "x")]) {
        const r = await h.app.inject({ method: "POST", url, payload, headers });
        assert.equal(r.statusCode, 401, `${url} ${JSON.stringify(headers)}`);
        assert.equal(r.headers["www-authenticate"], 'Bearer realm="fleet"');
      }
    }
    assert.equal(h.applier.count("up"), 0);
    assert.equal(h.journal.areaState("test", "pool").mode, "auto");
  } finally {
    await h.close();
  }
});

test("api: plan review: GET shows the pending plan; approve applies exactly it (job), then there is none", async () => {
  const h = await startHarness();
  try {
    const plan = (await h.app.inject("/api/plan")).json();
    assert.equal(plan.decisions[0].kind, "scale");
    assert.equal((await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: "2020-01-01T00:00:00Z" }, headers: auth() })).statusCode, 409, "approving another plan than the one shown");
    assert.equal((await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: {}, headers: auth() })).json().problems[0].field, "body.planAt");
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth() });
    assert.equal(r.statusCode, 202);
    const job = await h.jobs.settled(r.json().job);
    assert.equal(job!.state, "succeeded", job!.error ?? "");
    assert.deepEqual(h.applier.applied.burst.vms.map((v) => v.name), ["fleet-burst-b2"]);
    assert.equal((await h.app.inject("/api/plan")).statusCode, 404);
    assert.equal((await h.app.inject(`/api/jobs/${r.json().job}`)).json().lines.at(-1), "applied");
  } finally {
    await h.close();
  }
});

test("api: approve refuses a plan whose stack moved; reject records it; engine missing is 503", async () => {
  let h = await startHarness();
  try {
    h.applier.version = 5; // the stack was updated since the plan (stackVersion 1)
    const plan = (await h.app.inject("/api/plan")).json();
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth() });
    const job = await h.jobs.settled(r.json().job);
    assert.equal(job!.state, "failed");
    assert.match(job!.error!, /refused: the stack was updated since the plan was made \(version 1 -> 5\)/);
    assert.equal(job!.status, 409);
    assert.equal(h.applier.count("up"), 0);
  } finally {
    await h.close();
  }
  h = await startHarness();
  try {
    const plan = (await h.app.inject("/api/plan")).json();
    const r = await h.app.inject({ method: "POST", url: "/api/plan/reject", payload: { planAt: plan.at, reason: "not now" }, headers: auth() });
    assert.equal(r.statusCode, 200);
    assert.equal(fs.existsSync(h.reviewFile), false);
    assert.deepEqual(h.journal.events("test", { kind: "plan-rejected" })[0]!.detail, { planAt: plan.at, reason: "not now" });
  } finally {
    await h.close();
  }
  h = await startHarness();
  try {
    setStaleReason("fresh signals (2026-11-22T12:05:00.000Z) no longer give this plan: burst.count");
    const plan = (await h.app.inject("/api/plan")).json();
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth() });
    const job = await h.jobs.settled(r.json().job);
    assert.equal(job!.state, "failed");
    assert.match(job!.error!, /refused: fresh signals .* no longer give this plan: burst\.count; make a new plan/);
    assert.equal(h.applier.count("up"), 0);
  } finally {
    setStaleReason(null);
    await h.close();
  }
  h = await startHarness();
  try {
    const artifact = JSON.parse(fs.readFileSync(h.reviewFile, "utf8"));
    fs.writeFileSync(h.reviewFile, JSON.stringify({ ...artifact, stackVersion: null }));
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: artifact.at }, headers: auth() });
    const job = await h.jobs.settled(r.json().job);
    assert.match(job!.error!, /the plan was made without the Pulumi engine \(no stack version to hold it to\)/);
    assert.equal(h.applier.count("up"), 0);
  } finally {
    await h.close();
  }
  h = await startHarness();
  try {
    // The engine's update fails with mandatory violations (a recorded stream, replayed through the
    // real Applier's engineRun): blocked, 409, no failure counted toward the circuit breaker.
    h.applier.failNext("up", await recordedFailure("update", "lifecycle/TestSimpleAnalyzeResourceFailure"));
    const plan = (await h.app.inject("/api/plan")).json();
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth() });
    const job = await h.jobs.settled(r.json().job);
    assert.equal(job!.status, 409);
    assert.match(job!.error!, /blocked by the policy pack: always-fails: a policy failed/);
    assert.equal(h.journal.areaState("test", "burst").consecutiveFailures, 0);
    assert.equal(h.journal.events("test", { kind: "blocked-by-policy" }).length, 1);
  } finally {
    await h.close();
  }
  h = await startHarness({ engineMissing: new EngineMissingError("approving a plan") });
  try {
    const plan = (await h.app.inject("/api/plan")).json();
    const r = await h.app.inject({ method: "POST", url: "/api/plan/approve", payload: { planAt: plan.at }, headers: auth() });
    assert.equal(r.statusCode, 503);
    assert.match(r.json().error, /needs the Pulumi CLI/);
  } finally {
    await h.close();
  }
});

test("api: GPU offers, boot (job with progress; limits first), destroy, mode", async () => {
  const h = await startHarness();
  try {
    const offers = (await h.app.inject("/api/gpu/offers?gpuRamMin=20&maxPrice=0.5")).json().offers;
    assert.deepEqual(offers.map((o: { id: number }) => o.id), [102, 101]);
    assert.equal((await h.app.inject({ method: "POST", url: "/api/gpu/boot", payload: { offerId: "abc" }, headers: auth() })).json().problems[0].field, "body.offerId");
    assert.equal((await h.app.inject({ method: "POST", url: "/api/gpu/boot", payload: { offerId: 1, extra: 1 }, headers: auth() })).statusCode, 400);
    const r = await h.app.inject({ method: "POST", url: "/api/gpu/boot", payload: { offerId: 102 }, headers: auth() });
    assert.equal(r.statusCode, 202);
    const job = await h.jobs.settled(r.json().job);
    assert.equal(job!.state, "succeeded", job!.error ?? "");
    assert.match(job!.lines.join("\n"), /\[4\/4\] pair gpu-102 running/);
    assert.deepEqual(h.applier.applied.standby.pairs.map((p) => p.pairId), ["train", "gpu-102"]);
    // Above the price limit: the job fails with the reason and nothing is applied.
    const over = await h.jobs.settled((await h.app.inject({ method: "POST", url: "/api/gpu/boot", payload: { offerId: 104 }, headers: auth() })).json().job);
    assert.match(over!.error!, /above standby.gpu.maxDphUsd/);
    assert.equal(h.applier.count("up"), 1);
    const del = await h.jobs.settled((await h.app.inject({ method: "POST", url: "/api/gpu/destroy", payload: { pairId: "gpu-102" }, headers: auth() })).json().job);
    assert.equal(del!.state, "succeeded", del!.error ?? "");
    assert.deepEqual(h.applier.applied.standby.pairs.map((p) => p.pairId), ["train"]);
    assert.equal((await h.app.inject({ method: "POST", url: "/api/mode", payload: { area: "pool", mode: "sometimes" }, headers: auth() })).json().problems[0].field, "body.mode");
    const m = await h.app.inject({ method: "POST", url: "/api/mode", payload: { area: "pool", mode: "manual", reason: "maintenance" }, headers: auth() });
    assert.deepEqual(m.json(), { area: "pool", previous: "auto", mode: "manual" });
    assert.equal(h.journal.areaState("test", "pool").mode, "manual");
    assert.equal((await h.app.inject("/api/jobs/nope")).statusCode, 404);
  } finally {
    await h.close();
  }
});

test("api: the web page and its assets are served from this server (no CDN)", async () => {
  const h = await startHarness();
  try {
    const page = await h.app.inject("/");
    assert.match(page.headers["content-type"] as string, /text\/html/);
    const refs = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(refs.sort(), ["/app.js", "/style.css"]);
    for (const r of refs) assert.equal((await h.app.inject(r)).statusCode, 200);
    assert.ok(!/https?:\/\//.test((await h.app.inject("/app.js")).body.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, "")), "no external URL in the script");
  } finally {
    await h.close();
  }
});

test("api: only requests for this server: another Host gets 421 and no data, a cross-origin request 403; security headers on every answer", async () => {
  const h = await startHarness();
  try {
    const evil = await h.app.inject({ url: "/api/status", headers: { host: "evil.example" } });
    assert.equal(evil.statusCode, 421);
    assert.doesNotMatch(evil.body, /ssh|pair|spend|train/i);
    const rebound = await h.app.inject({ url: "/api/status", headers: { host: "evil.example:7878" } });
    assert.equal(rebound.statusCode, 421, "a DNS-rebound name on the right port is still another host");
    const cross = await h.app.inject({ url: "/api/plan", headers: { host: "127.0.0.1:7878", origin: "http://evil.example" } });
    assert.equal(cross.statusCode, 403);
    const post = await h.app.inject({ method: "POST", url: "/api/mode", payload: { area: "pool", mode: "manual" }, headers: { ...auth(), origin: "null" } });
    assert.equal(post.statusCode, 403, "a sandboxed or file: page (Origin null) is refused too");
    for (const url of ["/", "/api/status"]) {
      const ok = await h.app.inject({ url, headers: { host: "127.0.0.1:7878", origin: "http://127.0.0.1:7878" } });
      assert.equal(ok.statusCode, 200, url);
      assert.match(String(ok.headers["content-security-policy"]), /default-src 'self'.*frame-ancestors 'none'/);
      assert.equal(ok.headers["x-content-type-options"], "nosniff");
      assert.equal(ok.headers["x-frame-options"], "DENY");
    }
  } finally {
    await h.close();
  }
});

test("api: failed authentication is logged at warn (without the token) and throttled per address", async () => {
  const h = await startHarness();
  try {
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await h.app.inject({ method: "POST", url: "/api/plan/reject", payload: { planAt: "x" }, headers: { authorization: "Bearer wrong-token-guess" } })).statusCode);
    assert.deepEqual([...new Set(codes.slice(0, 20))], [401]);
    assert.deepEqual([...new Set(codes.slice(20))], [429]);
    const warns = h.logs.map((l) => JSON.parse(l)).filter((l) => l.level === 40 && l.event === "auth-failed");
    assert.ok(warns.length >= 20, `${warns.length} warnings`);
    assert.ok(!h.logs.some((l) => l.includes("wrong-token-guess")), "the guessed token is not logged");
  } finally {
    await h.close();
  }
});
