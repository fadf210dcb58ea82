import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import Ajv from "ajv";
import { parse as parseYaml } from "yaml";
import { REPO } from "../helpers";

/**
 * Vast.ai's own OpenAPI document (../shared/data/vast-openapi.yaml) checks the search body with ajv.
 * Two conflicts with the official CLI (the reference client, vastai/api/offers.py), resolved as the
 * service resolves them, since it accepts what the CLI sends: the `type` enum says `ondemand`, the
 * CLI sends `on-demand` (both accepted); `order` carries minItems/maxItems 2 at the list's level, the
 * CLI sends one [field, direction] pair (the bounds are applied to each pair).
 */
const VAST_SPEC = parseYaml(fs.readFileSync(path.join(REPO, "..", "shared", "data", "vast-openapi.yaml"), "utf8"));
const bundlesSchema = structuredClone(VAST_SPEC.paths["/api/v0/bundles/"].post.requestBody.content["application/json"].schema);
bundlesSchema.properties.type.enum = [...bundlesSchema.properties.type.enum, "on-demand"];
{
  const order = bundlesSchema.properties.order;
  order.items = { ...order.items, minItems: order.minItems, maxItems: order.maxItems };
  delete order.minItems;
  delete order.maxItems;
}
const validateBundles = new Ajv({ strict: false, allErrors: true }).compile(bundlesSchema);

/** Why Vast would refuse this search body, or null. */
export function bundlesRefusal(body: unknown): string | null {
  if (validateBundles(body)) return null;
  return (validateBundles.errors ?? []).map((e) => `${e.instancePath || "body"} ${e.message}`).join("; ");
}

/**
 * A local HTTP server speaking the documented Vast.ai REST API (api/v0): GET /bundles/?q=,
 * PUT /asks/{id}/, GET /instances/, PUT /instances/{id}/ ({state: running}: start), DELETE
 * /instances/{id}/, with Bearer auth and the recorded response shapes ({offers: [...]}, {success, new_contract}, {instances: [...]}). Failures can be
 * injected (status codes, slow answers); a rented offer disappears from search and a second PUT on
 * it fails as the real API does.
 */
export interface OfferWire {
  id: number;
  /** Left out for a host rented without a GPU. */
  gpu_name?: string;
  num_gpus: number;
  gpu_ram: number;
  cpu_cores_effective?: number;
  /** MB */
  cpu_ram?: number;
  /** The machine's price; the answer adds the allocated storage at storage_cost. */
  dph_total: number;
  /** $/GB/month of disk (0 when left out). */
  storage_cost?: number;
  reliability: number;
  reliability2?: number;
  verified?: boolean;
  external?: boolean;
  rented?: boolean;
  disk_space: number;
  geolocation: string;
  rentable?: boolean;
}

/** Offers shaped as the documented search returns them (gpu_ram in MB). */
export function sampleOffers(): OfferWire[] {
  return [
    { id: 101, gpu_name: "RTX 4090", num_gpus: 1, gpu_ram: 24564, dph_total: 0.42, reliability: 0.99, disk_space: 200, geolocation: "US, CA" },
    { id: 102, gpu_name: "RTX 4090", num_gpus: 1, gpu_ram: 24564, dph_total: 0.35, reliability: 0.97, disk_space: 100, geolocation: "Germany, DE" },
    { id: 103, gpu_name: "RTX 3090", num_gpus: 1, gpu_ram: 24576, dph_total: 0.2, reliability: 0.9, disk_space: 500, geolocation: "US, TX" },
    { id: 104, gpu_name: "A100 SXM4", num_gpus: 1, gpu_ram: 81920, dph_total: 1.1, reliability: 0.995, disk_space: 1000, geolocation: "US, VA" },
  ];
}

/** Hosts for a Vast standby: three without a GPU (num_gpus 0, no gpu_name) and one cheap GPU host. */
export function sampleCpuOffers(): OfferWire[] {
  return [
    { id: 201, num_gpus: 0, gpu_ram: 0, cpu_cores_effective: 4, cpu_ram: 16384, dph_total: 0.06, reliability: 0.99, disk_space: 500, geolocation: "Germany, DE" },
    { id: 202, num_gpus: 0, gpu_ram: 0, cpu_cores_effective: 2, cpu_ram: 8192, dph_total: 0.04, reliability: 0.985, disk_space: 200, geolocation: "US, TX" },
    { id: 203, num_gpus: 0, gpu_ram: 0, cpu_cores_effective: 1, cpu_ram: 4096, dph_total: 0.02, reliability: 0.99, disk_space: 200, geolocation: "US, TX" },
    { id: 204, gpu_name: "GTX 1070", num_gpus: 1, gpu_ram: 8192, cpu_cores_effective: 4, cpu_ram: 16384, dph_total: 0.03, reliability: 0.99, disk_space: 300, geolocation: "US, CA" },
  ];
}

export class VastDouble {
  calls: { method: string; path: string; auth: string | undefined; body: any }[] = [];
  /** Injected failures, in order; `msg` is the error text Vast answers (some of its errors echo the request). */
  failures: { status?: number; delayMs?: number; msg?: string }[] = [];
  instances: any[] = [];
  /**
   * Listings a new instance spends booting: the first shows it scheduled (actual_status null, no
   * address), the next ones loading with its endpoint, then running. Set 0 to boot at once.
   */
  bootListings = 2;
  /**
   * Where a rented instance runs: by default a documentation address and Vast's ssh proxy shape;
   * the engine tests give a real host here (a sandbox that ran the instance's onstart and serves ssh).
   */
  boot?: (instance: { id: number; label: string | null; onstart?: string; extra_env: [string, string][] }) => Promise<{ public_ipaddr: string; ssh_host: string; ssh_port: number }>;
  private booting = new Map<number, { listings: number; endpoint?: Record<string, unknown> }>();

  /** Moves every booting instance one listing along its boot (scheduled -> loading -> running). */
  private advanceBoots(): void {
    for (const [id, b] of this.booting) {
      const inst = this.instances.find((x) => x.id === id);
      if (!inst || (inst.actual_status !== null && inst.actual_status !== "loading")) {
        this.booting.delete(id); // destroyed, or its status set by a test
        continue;
      }
      if (!b.endpoint) continue; // its host is still starting
      b.listings++;
      if (b.listings > this.bootListings) {
        Object.assign(inst, b.endpoint, { actual_status: "running" });
        this.booting.delete(id);
      } else if (b.listings > 1) Object.assign(inst, b.endpoint, { actual_status: "loading" });
    }
  }
  private nextId = 9_000_001;
  private server?: http.Server;

  /**
   * A misbehaving server: the search ignores every filter and answers all offers (a proxy that
   * drops the body, an API change). Fleet must not trust the answer to be within its limits.
   */
  ignoreFilters = false;
  constructor(public offers: OfferWire[], readonly apiKey = "vast-test-key") {}

  baseUrl = "";

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => void this.handle(req, raw ? JSON.parse(raw) : undefined, res));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/api/v0`;
    return this.baseUrl;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => this.server?.close(() => r()));
  }

  private send(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, body: any, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname.replace(/^\/api\/v0/, "").replace(/^\/api\/v1\//, "/v1/");
    this.calls.push({ method: req.method ?? "", path: path + url.search, auth: req.headers.authorization, body });
    const fail = this.failures.shift();
    if (fail?.delayMs) await new Promise((r) => setTimeout(r, fail.delayMs));
    if (fail?.status) return this.send(res, fail.status, { success: false, error: fail.status === 429 ? "rate_limited" : "server_error", msg: fail.msg ?? `injected ${fail.status}` });
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) return this.send(res, 401, { success: false, error: "auth_error", msg: "Invalid user key" });

    if (path === "/bundles/" && req.method !== "POST") return this.send(res, 405, { success: false, error: "method_not_allowed", msg: "search is POST /api/v0/bundles/ with the query as its body" });
    if (req.method === "POST" && path === "/bundles/") {
      const refusal = bundlesRefusal(body);
      if (refusal) return this.send(res, 400, { success: false, error: "invalid_args", msg: refusal });
      const q = body as Record<string, any>;
      const ok = (v: unknown, c?: { gte?: number; lte?: number; eq?: unknown; in?: unknown[] }) =>
        !c || ((c.gte === undefined || (v as number) >= c.gte) && (c.lte === undefined || (v as number) <= c.lte) && (c.eq === undefined || v === c.eq) && (c.in === undefined || c.in.includes(v)));
      const storage = typeof q.allocated_storage === "number" ? q.allocated_storage : 8;
      if (this.ignoreFilters) return this.send(res, 200, { offers: this.offers });
      const offers = this.offers
        .filter((o) => ok(o.rentable !== false, q.rentable) && ok(o.verified !== false, q.verified) && ok(o.external === true, q.external) && ok(o.rented === true, q.rented))
        .filter((o) => ok(o.id, q.id) && ok(o.gpu_name ?? null, q.gpu_name))
        .filter((o) => ok(o.gpu_ram, q.gpu_ram) && ok(o.reliability, q.reliability) && ok(o.disk_space, q.disk_space))
        .filter((o) => ok(o.num_gpus, q.num_gpus) && ok(o.cpu_cores_effective ?? 0, q.cpu_cores_effective) && ok(o.cpu_ram ?? 0, q.cpu_ram))
        // dph_total is the machine's price plus the storage being rented (storage_cost, $/GB/month).
        .map((o) => ({ ...o, dph_total: Math.round((o.dph_total + (storage * (o.storage_cost ?? 0)) / (30 * 24)) * 1e6) / 1e6 }))
        .filter((o) => ok(o.dph_total, q.dph_total))
        .sort((a, b) => a.dph_total - b.dph_total)
        .slice(0, q.limit ?? 64);
      return this.send(res, 200, { offers });
    }
    // The paged v1 list (vast-openapi.yaml /api/v1/instances/): at most 25 a page, keyset next_token.
    if (req.method === "GET" && path === "/v1/instances/") {
      this.advanceBoots();
      const limit = Math.min(25, Number(url.searchParams.get("limit") ?? 25) > 0 ? Number(url.searchParams.get("limit") ?? 25) : 5);
      const token = url.searchParams.get("after_token");
      let after = 0;
      if (token) {
        const m = /^after:(\d+)$/.exec(Buffer.from(token, "base64").toString("utf8"));
        if (!m) return this.send(res, 400, { success: false, error: "invalid_args", msg: "invalid after_token" });
        after = Number(m[1]);
      }
      const sorted = [...this.instances].sort((a, b) => a.id - b.id).filter((i) => i.id > after);
      const page = sorted.slice(0, limit);
      const next = sorted.length > limit ? Buffer.from(`after:${page[page.length - 1]!.id}`).toString("base64") : null;
      return this.send(res, 200, { success: true, instances_found: page.length, total_instances: this.instances.length, instances: page, next_token: next });
    }
    const ask = path.match(/^\/asks\/(\d+)\/$/);
    if (req.method === "PUT" && ask) {
      const offer = this.offers.find((o) => o.id === Number(ask[1]));
      if (!offer || offer.rentable === false) return this.send(res, 400, { success: false, error: "no_such_ask", msg: `Instance type ${ask[1]} is no longer available.` });
      offer.rentable = false;
      const id = this.nextId++;
      // A new instance is scheduled first (no address, no ssh endpoint yet), then loads, then runs.
      const endpoint = { public_ipaddr: "203.0.113.10", ssh_host: "ssh5.vast.ai", ssh_port: 20000 + (id % 1000) };
      const booting = { id, actual_status: null, label: body?.label ?? null, gpu_name: offer.gpu_name, dph_total: offer.dph_total, public_ipaddr: null, ssh_host: null, ssh_port: null, start_date: 1_795_000_000, image_uuid: body?.image, disk_space: body?.disk, onstart: body?.onstart,
        // [[name, value], ...] as the v1 list answers it (vast-openapi.yaml; the official CLI reads it on every row).
        extra_env: Object.entries((body?.env ?? {}) as Record<string, string>) };
      this.instances.push(booting);
      const boot = { listings: 0, endpoint: this.boot ? undefined : endpoint };
      this.booting.set(id, boot);
      if (this.boot) void this.boot(booting).then((e) => (boot.endpoint = e), (e: unknown) => Object.assign(booting, { actual_status: "exited", status_msg: String(e) }));
      return this.send(res, 200, { success: true, new_contract: id });
    }
    if (req.method === "GET" && path === "/instances/") {
      this.advanceBoots();
      return this.send(res, 200, { instances: this.instances });
    }
    const inst = path.match(/^\/instances\/(\d+)\/$/);
    if (req.method === "PUT" && inst) {
      const found = this.instances.find((x) => x.id === Number(inst[1]));
      if (!found) return this.send(res, 404, { success: false, error: "no_such_instance", msg: "Instance not found" });
      if (body?.state !== "running" && body?.state !== "stopped") return this.send(res, 400, { success: false, error: "invalid_args", msg: "state must be running or stopped" });
      found.actual_status = body.state === "running" ? "loading" : "stopped";
      return this.send(res, 200, { success: true });
    }
    if (req.method === "DELETE" && inst) {
      const i = this.instances.findIndex((x) => x.id === Number(inst[1]));
      if (i < 0) return this.send(res, 404, { success: false, error: "no_such_instance", msg: "Instance not found" });
      this.instances.splice(i, 1);
      return this.send(res, 200, { success: true });
    }
    return this.send(res, 404, { success: false, error: "not_found", msg: path });
  }
}
