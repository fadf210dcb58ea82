import * as fs from "node:fs";
import * as path from "node:path";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { z } from "zod";
import type { Applier } from "../apply/types";
import { resolveFromRoot, type StackConfig } from "../config/load";
import { problemsFromZod } from "../config/issues";
import { poolKey } from "../decide/pool";
import { BlockedError, EngineMissingError, FleetError, InputError, type Problem } from "../errors";
import { forecast } from "../forecast";
import type { ClusterStatus } from "../hpc/status";
import type { Journal } from "../journal";
import type { ReconcilerMetrics } from "../metrics";
import { AREAS, type DesiredFleet, type HpcSpec, type PlanArtifact, type PriceRecord } from "../model";
import { applyReviewed, readPlanArtifact, setAreaMode } from "../review";
import { areaModes, burstVms, costReport, poolSwitches, spendToday } from "../report";
import type { PriceSource } from "../signals/types";
import { bootGpu, destroyGpu, gpuStatus } from "../standby/service";
import { VastError, type VastClient } from "../vast/client";
import { Jobs } from "./jobs";
import { bearerMatches } from "./token";
import { redact } from "../redact";

/** What the server needs; everything with side effects is injected, so tests use doubles. */
export interface ServeDeps {
  /** The stack's config, read again for every request (an apply changes `fleet:desired`). */
  config: () => StackConfig;
  journal: Journal;
  /** Opens the engine; throws EngineMissingError without the Pulumi CLI. */
  applier: () => Promise<Applier>;
  vast: () => VastClient | null;
  prices: PriceSource;
  hpcStatus: (spec: HpcSpec) => Promise<ClusterStatus>;
  token: string;
  now: () => number;
  logger: Logger;
  metrics?: ReconcilerMetrics;
  /** Directory of the web page (index.html, app.js, style.css). */
  webDir: string;
  /** Approval's re-check of a reviewed plan against fresh signals: why it is stale, or null. */
  stale: (plan: PlanArtifact, applied: DesiredFleet) => Promise<string | null>;
  /** The address the server is bound to: requests must name it or a loopback name as their Host. */
  boundHost?: string;
  /** TLS for a non-loopback bind (Fastify's https options). */
  https?: { key: Buffer; cert: Buffer };
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1", "[::1]"];

/**
 * Failed authentications per address in a sliding minute: after 20, that address gets 429 on the
 * token-guarded routes until the oldest failure leaves the window. Enough for a person who mistyped,
 * too few to guess a 32-byte token; reads are not limited.
 */
export class AuthFailures {
  private readonly byIp = new Map<string, number[]>();
  constructor(
    private readonly now: () => number,
    private readonly max = 20,
    private readonly windowMs = 60_000,
  ) {}

  private recent(ip: string): number[] {
    const since = this.now() - this.windowMs;
    const times = (this.byIp.get(ip) ?? []).filter((t) => t > since);
    if (times.length) this.byIp.set(ip, times);
    else this.byIp.delete(ip);
    return times;
  }

  record(ip: string): void {
    this.byIp.set(ip, [...this.recent(ip), this.now()]);
  }

  /** Seconds until this address may try again; 0 when it may now. */
  blockedForSeconds(ip: string): number {
    const times = this.recent(ip);
    if (times.length < this.max) return 0;
    return Math.max(1, Math.ceil((times[times.length - this.max]! + this.windowMs - this.now()) / 1000));
  }
}

/** The host name of a Host header or an Origin's authority, without the port; lowercase. */
export function hostName(hostPort: string): string {
  const h = hostPort.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0]!;
}

/**
 * Answers only requests meant for this server: a Host naming a loopback name or the bound address
 * (a page that rebinds its own name to 127.0.0.1 still sends its own name: 421), and no cross-origin
 * browser request (an Origin of another host: 403).
 */
export function requestRefusal(headers: { host?: string; origin?: string }, boundHost?: string): { status: number; error: string } | null {
  const allowed = new Set([...LOOPBACK_NAMES, ...(boundHost && !["0.0.0.0", "::"].includes(boundHost) ? [hostName(boundHost)] : [])]);
  const host = headers.host ? hostName(headers.host) : "";
  if (!allowed.has(host)) return { status: 421, error: `this server answers requests for ${[...allowed].join(", ")}, not '${host}'` };
  if (headers.origin !== undefined) {
    let origin = "";
    try {
      origin = hostName(new URL(headers.origin).host);
    } catch {
      /* "null" or garbage: refused below */
    }
    if (!allowed.has(origin)) return { status: 403, error: "cross-origin requests are refused" };
  }
  return null;
}

/** Headers every response carries: the page loads only its own files and cannot be framed. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const WEB_FILES: Record<string, string> = { "/": "index.html", "/app.js": "app.js", "/style.css": "style.css" };
const CONTENT_TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** A 400 naming each bad field, from a zod error on a body or query. */
class BadRequest extends InputError {}

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new BadRequest(where, problemsFromZod(where, r.error));
  return r.data;
}

const positiveInt = z.coerce.number().int().positive();
const DecisionsQuery = z.strictObject({ area: z.enum(AREAS).optional(), limit: z.coerce.number().int().min(1).max(500).default(50) });
const PricesQuery = z.strictObject({ pool: z.string().regex(/^(gcp|aws)\/[a-z0-9-]+\/[a-z0-9-]*\/[a-z0-9.-]+$/, "must be provider/region/zone/type, e.g. gcp/us-central1//e2-standard-4").optional(), hours: z.coerce.number().int().min(1).max(24 * 90).default(24 * 14) });
const OffersQuery = z.strictObject({ gpuRamMin: z.coerce.number().min(0).optional(), maxPrice: z.coerce.number().min(0).optional(), gpu: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(100).default(20) });
const BootBody = z.strictObject({ offerId: positiveInt, pairId: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/).optional() });
const DestroyBody = z.union([z.strictObject({ instanceId: positiveInt }), z.strictObject({ pairId: z.string().min(1) })]);
const ModeBody = z.strictObject({ area: z.enum(AREAS), mode: z.enum(["auto", "manual"]), reason: z.string().max(500).optional() });
const ApproveBody = z.strictObject({ planAt: z.string().min(1) });
const RejectBody = z.strictObject({ planAt: z.string().min(1), reason: z.string().max(500).optional() });

/** Maps an error to a status and a body that names the problem and holds no secret. */
function errorReply(e: unknown): { status: number; body: { error: string; problems?: Problem[] } } {
  const r = rawErrorReply(e);
  return { ...r, body: { ...r.body, error: redact(r.body.error) } };
}

function rawErrorReply(e: unknown): { status: number; body: { error: string; problems?: Problem[] } } {
  if (e instanceof BadRequest || e instanceof InputError) return { status: 400, body: { error: e.message.split("\n")[0]!, problems: e.problems } };
  if (e instanceof BlockedError) return { status: 409, body: { error: e.message } };
  if (e instanceof EngineMissingError) return { status: 503, body: { error: e.message } };
  if (e instanceof VastError) return { status: 502, body: { error: e.message } };
  if (e instanceof FleetError) return { status: 500, body: { error: e.message } };
  return { status: 500, body: { error: "internal error (see the server log)" } };
}

function describeError(e: unknown): string {
  return redact(e instanceof Error ? e.message : String(e));
}

/**
 * The HTTP API and the web page. Reads are open on the bound address (localhost by default);
 * every mutating call needs the bearer token. Long operations (approve, boot, destroy) answer 202
 * with a job to poll at /api/jobs/:id.
 */
export function buildApp(deps: ServeDeps): { app: FastifyInstance; jobs: Jobs } {
  const app = Fastify({ loggerInstance: deps.logger.child({ component: "http" }) as unknown as FastifyBaseLogger, bodyLimit: 64 * 1024, ...(deps.https ? { https: deps.https } : {}) }) as unknown as FastifyInstance;
  const jobs = new Jobs(deps.now);

  app.addHook("onRequest", async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    const refusal = requestRefusal({ host: req.headers.host, origin: req.headers.origin }, deps.boundHost);
    if (refusal) return reply.code(refusal.status).send({ error: refusal.error });
  });
  const failures = new AuthFailures(deps.now);

  app.setErrorHandler((err, req, reply) => {
    const fastifyErr = err as { statusCode?: number; code?: string; message: string };
    if (fastifyErr.statusCode && fastifyErr.statusCode < 500) return reply.code(fastifyErr.statusCode).send({ error: fastifyErr.message });
    const { status, body } = errorReply(err);
    if (status >= 500) req.log.error({ err: describeError(err) }, "request failed");
    return reply.code(status).send(body);
  });

  const requireToken = async (req: FastifyRequest, reply: FastifyReply) => {
    const wait = failures.blockedForSeconds(req.ip);
    if (wait > 0) return reply.code(429).header("retry-after", String(wait)).send({ error: `too many failed authentications from ${req.ip}: try again in ${wait} s` });
    if (!bearerMatches(req.headers.authorization, deps.token)) {
      failures.record(req.ip);
      req.log.warn({ event: "auth-failed", ip: req.ip, url: req.url }, "authentication failed");
      return reply.code(401).header("www-authenticate", 'Bearer realm="fleet"').send({ error: "a bearer token is needed: Authorization: Bearer <token from `fleet serve`'s token file>" });
    }
  };
  const mutating = { preHandler: requireToken };

  for (const [route, file] of Object.entries(WEB_FILES)) {
    app.get(route, async (_req, reply) => {
      const body = fs.readFileSync(path.join(deps.webDir, file));
      return reply.type(CONTENT_TYPES[path.extname(file)]!).header("cache-control", "no-cache").send(body);
    });
  }

  app.get("/health", async () => ({ ok: true, stack: deps.config().stack, at: new Date(deps.now()).toISOString(), jobsRunning: jobs.running().length }));
  app.get("/metrics", async (_req, reply) => {
    if (!deps.metrics) return reply.code(404).send({ error: "no metrics registry" });
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  app.get("/api/status", async () => {
    const cfg = deps.config();
    const now = deps.now();
    const d = cfg.desired;
    const [hpc, standby] = await Promise.all([
      d.hpc ? deps.hpcStatus(d.hpc).then((s) => ({ name: d.hpc!.name, nodes: s.nodes.map((n) => ({ name: n.name, role: n.role, state: n.state, vcpu: n.vcpu, memoryMiB: n.memoryMiB, ip: n.leaseIp ?? n.fixedIp })), error: null }), (e) => ({ name: d.hpc!.name, nodes: [], error: describeError(e) })) : Promise.resolve(null),
      gpuStatus({ cfg, standby: d.standby, vast: deps.vast(), journal: deps.journal, now }),
    ]);
    const pool = d.pool ? { ...d.pool, key: poolKey(d.pool), switches: poolSwitches(deps.journal, cfg.stack, 20) } : null;
    const last = deps.journal.lastPlan(cfg.stack);
    return {
      stack: cfg.stack,
      at: new Date(now).toISOString(),
      modes: areaModes(deps.journal, cfg.stack),
      spend: spendToday(cfg, deps.journal, now),
      burst: { vms: burstVms(cfg, deps.journal, now), desired: d.burst.vms.length, maxConcurrent: cfg.policy.burst.maxConcurrent },
      pool,
      standby: { vast: standby.vast, pairs: standby.pairs, connected: standby.pairs.some((p) => p.state === "running" && p.gpu.status === "running") },
      hpc,
      lastPlan: last ? { id: last.id, at: last.at, source: last.source, costs: last.costs } : null,
    };
  });

  app.get("/api/decisions", async (req) => {
    const q = parse(DecisionsQuery, req.query, "query");
    return { decisions: deps.journal.decisions(deps.config().stack, { area: q.area, limit: q.limit }) };
  });
  app.get("/api/switches", async () => ({ switches: poolSwitches(deps.journal, deps.config().stack) }));
  app.get("/api/costs", async (req) => {
    const q = parse(z.strictObject({ days: z.coerce.number().int().min(1).max(366).default(7) }), req.query, "query");
    const cfg = deps.config();
    return { today: spendToday(cfg, deps.journal, deps.now()), ...costReport(cfg, deps.journal, deps.now(), q.days) };
  });

  app.get("/api/prices", async (req) => {
    const q = parse(PricesQuery, req.query, "query");
    const cfg = deps.config();
    const key = q.pool ?? (cfg.desired.pool ? poolKey(cfg.desired.pool) : undefined);
    const all = await deps.prices.prices();
    const now = deps.now();
    if (!key) {
      // No pool asked and none desired: the pools on offer, so a client can pick one.
      const pools = [...new Set(all.map((p) => poolKey(p)))].sort().slice(0, 500);
      return { pool: null, pools, points: [], forecast: null };
    }
    const from = now - q.hours * 3_600_000;
    const mine = all.filter((p: PriceRecord) => poolKey(p) === key);
    if (!mine.length) throw new BadRequest("query", [{ field: "query.pool", message: `no prices for pool '${key}'` }]);
    const series = mine.map((p) => ({ t: p.at ? Date.parse(p.at) : now, price: p.spotHourUsd })).sort((a, b) => a.t - b.t);
    const f = forecast(series, now, cfg.policy.pool.horizonHours * 3_600_000);
    return {
      pool: key,
      points: series.filter((p) => p.t >= from).map((p) => ({ at: new Date(p.t).toISOString(), spotHourUsd: p.price })),
      onDemandHourUsd: mine[mine.length - 1]!.onDemandHourUsd,
      forecast: f ? { horizonHours: cfg.policy.pool.horizonHours, price: f.price, volatility: f.volatility, method: f.method } : null,
    };
  });

  const reviewFile = () => {
    const cfg = deps.config();
    return path.join(resolveFromRoot(cfg.root, cfg.policy.reconcile.reviewDir), `plan-${cfg.stack}.json`);
  };
  /** The pending plan, or a 404 reply. */
  const pendingPlan = () => {
    const file = reviewFile();
    if (!fs.existsSync(file)) return null;
    return { file, plan: readPlanArtifact(file, deps.config().stack) };
  };
  const settle = (file: string, outcome: string) => fs.renameSync(file, file.replace(/\.json$/, `.${outcome}-${new Date(deps.now()).toISOString().replace(/[:.]/g, "-")}.json`));

  app.get("/api/plan", async (_req, reply) => {
    const p = pendingPlan();
    if (!p) return reply.code(404).send({ error: "no plan is waiting for review (reconcile in review mode writes one)" });
    return p.plan;
  });

  app.post("/api/plan/approve", mutating, async (req, reply) => {
    const body = parse(ApproveBody, req.body, "body");
    const p = pendingPlan();
    if (!p) return reply.code(404).send({ error: "no plan is waiting for review" });
    if (p.plan.at !== body.planAt) return reply.code(409).send({ error: `the pending plan is from ${p.plan.at}, not ${body.planAt}: reload and review it` });
    const applier = await deps.applier();
    const cfg = deps.config();
    const job = jobs.start(
      "approve",
      async (say) => {
        say(`applying the plan of ${p.plan.at}`);
        const r = await applyReviewed({ cfg, applier, journal: deps.journal, plan: p.plan, clock: deps.now, stale: deps.stale });
        if ("refused" in r) {
          settle(p.file, "stale");
          throw new BlockedError(`refused: ${r.refused.join("; ")}; make a new plan`);
        }
        if (r.result.outcome === "blocked") throw new BlockedError(`blocked by the policy pack: ${r.result.reasons.join("; ")}`);
        if (r.result.outcome !== "applied") throw new FleetError(`apply ${r.result.outcome}${r.result.outcome === "failed" ? `: ${r.result.error}` : ""}`);
        settle(p.file, "applied");
        deps.journal.recordEvent({ at: new Date(deps.now()).toISOString(), stack: cfg.stack, kind: "plan-approved", detail: { planAt: p.plan.at } });
        say("applied");
        return { outcome: "applied" };
      },
      describeError,
      (e) => errorReply(e).status,
    );
    return reply.code(202).send({ job: job.id });
  });

  app.post("/api/plan/reject", mutating, async (req, reply) => {
    const body = parse(RejectBody, req.body, "body");
    const p = pendingPlan();
    if (!p) return reply.code(404).send({ error: "no plan is waiting for review" });
    if (p.plan.at !== body.planAt) return reply.code(409).send({ error: `the pending plan is from ${p.plan.at}, not ${body.planAt}: reload and review it` });
    settle(p.file, "rejected");
    deps.journal.recordEvent({ at: new Date(deps.now()).toISOString(), stack: deps.config().stack, kind: "plan-rejected", detail: { planAt: p.plan.at, reason: body.reason ?? null } });
    return { outcome: "rejected" };
  });

  const vastOr503 = () => {
    const v = deps.vast();
    if (!v) throw new InputError("Vast.ai", [{ field: "VAST_API_KEY", message: "the server has no Vast.ai API key: start `fleet serve` with VAST_API_KEY set" }]);
    return v;
  };

  app.get("/api/gpu/offers", async (req) => {
    const q = parse(OffersQuery, req.query, "query");
    const r = deps.config().policy.standby.gpu;
    const offers = await vastOr503().searchOffers({ gpuName: q.gpu ?? r.gpuName, gpuRamMinGb: q.gpuRamMin ?? r.gpuRamMinGb, maxDphUsd: q.maxPrice ?? r.maxDphUsd, reliabilityMin: r.reliabilityMin, diskGb: r.diskGb, limit: q.limit });
    return { offers };
  });

  const gpuJob = (kind: string, run: (deps2: Parameters<typeof bootGpu>[0]) => Promise<unknown>) => {
    const vast = vastOr503();
    const cfg = deps.config();
    return jobs.start(kind, (say) => run({ cfg, vast, journal: () => deps.journal, applier: deps.applier, now: deps.now, say }), describeError, (e) => errorReply(e).status);
  };

  app.post("/api/gpu/boot", mutating, async (req, reply) => {
    const body = parse(BootBody, req.body, "body");
    const job = gpuJob("gpu-boot", (g) => bootGpu(g, { offerId: body.offerId, pairId: body.pairId }));
    return reply.code(202).send({ job: job.id });
  });

  app.post("/api/gpu/destroy", mutating, async (req, reply) => {
    const body = parse(DestroyBody, req.body, "body");
    const job = gpuJob("gpu-destroy", (g) => destroyGpu(g, "instanceId" in body ? { instanceId: body.instanceId } : { pairId: body.pairId }));
    return reply.code(202).send({ job: job.id });
  });

  app.post("/api/mode", mutating, async (req) => {
    const body = parse(ModeBody, req.body, "body");
    const r = setAreaMode(deps.journal, deps.config().stack, { ...body, atIso: new Date(deps.now()).toISOString() });
    return { area: r.area, previous: r.previous, mode: body.mode };
  });

  app.get("/api/jobs/:id", async (req, reply) => {
    const job = jobs.get((req.params as { id: string }).id);
    if (!job) return reply.code(404).send({ error: "no such job (jobs live as long as the server process)" });
    return job;
  });

  return { app, jobs };
}
