import { z } from "zod";
import type { VastOffer } from "../model";
import { HOST_RULE, isHost } from "../model/hosts";
import { redact } from "../redact";

/**
 * A typed client of the Vast.ai REST API (no Vast SDK exists for Node). Base URL from VAST_API_URL
 * (default https://console.vast.ai/api/v0); the API key travels only in the Authorization header and
 * never appears in an error, a log or a returned value. Retries with exponential backoff on 429, 5xx,
 * network errors and timeouts; 401 and 404 are clear errors at once.
 */

/** The official CLI's default search filters (vastai/api/offers.py search_offers). */
const SEARCH_DEFAULTS = { verified: { eq: true }, external: { eq: false }, rentable: { eq: true }, rented: { eq: false } };
/** The CLI multiplies GB by 1000 for gpu_ram and cpu_ram (vastai/api/query.py offers_mult). */
const MB_PER_GB = 1000;

export class VastError extends Error {
  constructor(message: string, readonly status: number | null, readonly code: string) {
    super(message);
    // Set again by hand: the Vast provider runs from the engine's serialization of its closure,
    // which calls Error as a plain function in place of super(), and that sets no message.
    this.message = message;
    this.name = "VastError";
  }
}
/** The offer was rented by someone else (or withdrawn) between search and create. */
export class OfferGoneError extends VastError {}

export interface VastClientOptions {
  apiKey: string;
  baseUrl?: string;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface OfferQuery {
  /** One offer by id (is it still rentable, at what price). */
  offerId?: number;
  gpuName?: string | null;
  gpuRamMinGb?: number;
  maxDphUsd?: number;
  reliabilityMin?: number;
  diskGb?: number;
  limit?: number;
}

/** A host for a standby (standby.target vast): CPU, memory and disk, no GPU needed. */
export interface CpuOfferQuery {
  cpuCoresMin: number;
  ramGbMin: number;
  diskGb: number;
  maxDphUsd: number;
  reliabilityMin: number;
  /** Only hosts rented without a GPU (num_gpus 0). */
  cpuOnly: boolean;
  limit?: number;
}

export interface VastInstance {
  id: number;
  /** Vast's actual_status: running, loading, created, stopped, exited, offline, ... (null while provisioning). */
  status: string | null;
  label: string | null;
  gpuName: string;
  dphUsd: number;
  publicIp: string | null;
  sshHost: string | null;
  sshPort: number | null;
  startedAt: string | null;
  /** GPU utilisation in percent as Vast last measured it (gpu_util); null when not reported. */
  gpuUtilPct: number | null;
}

/**
 * Response schemas, built on call rather than held at module level: the provider that uses this
 * client is serialized by Pulumi, which can capture the zod package but not schema instances.
 */
function wire() {
  const OfferWire = z.looseObject({
    id: z.number().int().positive(),
    // A host rented without a GPU reports num_gpus 0 and may leave gpu_name out.
    gpu_name: z.string().nullable().optional(),
    num_gpus: z.number().int().min(0),
    gpu_ram: z.number().min(0).nullable().optional(),
    dph_total: z.number().min(0),
    reliability2: z.number().min(0).max(1).optional(),
    reliability: z.number().min(0).max(1).optional(),
    disk_space: z.number().min(0),
    geolocation: z.string().nullable().optional(),
    cpu_cores_effective: z.number().min(0).nullable().optional(),
    cpu_ram: z.number().min(0).nullable().optional(),
  });
  const InstanceWire = z.looseObject({
    id: z.number().int().positive(),
    actual_status: z.string().nullable().optional(),
    label: z.string().nullable().optional(),
    gpu_name: z.string().nullable().optional(),
    dph_total: z.number().min(0).nullable().optional(),
    // These reach ssh, rsync and the GPU's sync script: a host or port that is not one is refused here.
    // (Built here, from a plain function: a dynamic provider serializes this closure, and a zod
    // schema made in another module cannot be serialized.)
    public_ipaddr: z.string().refine(isHost, HOST_RULE).nullable().optional(),
    ssh_host: z.string().refine(isHost, HOST_RULE).nullable().optional(),
    ssh_port: z.number().int().min(1).max(65535).nullable().optional(),
    start_date: z.number().nullable().optional(),
    gpu_util: z.number().nullable().optional(),
  });
  return { OfferWire, InstanceWire };
}

/** Vast names GPUs with spaces ("RTX 4090"); the official CLI (and Fleet) accept `_` for a space. */
export function sameGpuName(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/_/g, " ").trim().replace(/\s+/g, " ").toLowerCase();
  return norm(a) === norm(b);
}

/**
 * Whether an offer meets the query: every search is re-checked here, so a server that ignores a
 * filter (or answers more than asked) cannot put an offer outside the user's limits.
 */
export function meetsGpuQuery(o: VastOffer, q: OfferQuery): boolean {
  if (q.offerId !== undefined && o.id !== q.offerId) return false;
  if (q.offerId === undefined && o.numGpus < 1) return false;
  if (q.gpuName && !sameGpuName(o.gpuName, q.gpuName)) return false;
  if (q.gpuRamMinGb !== undefined && o.gpuRamGb < q.gpuRamMinGb) return false;
  if (q.maxDphUsd !== undefined && o.dphUsd > q.maxDphUsd) return false;
  if (q.reliabilityMin !== undefined && o.reliability < q.reliabilityMin) return false;
  return q.diskGb === undefined || o.diskGb >= q.diskGb;
}

export function meetsCpuQuery(o: VastOffer, q: CpuOfferQuery): boolean {
  return (
    o.cpuCores >= q.cpuCoresMin &&
    o.ramGb >= q.ramGbMin &&
    o.diskGb >= q.diskGb &&
    o.dphUsd <= q.maxDphUsd &&
    o.reliability >= q.reliabilityMin &&
    (!q.cpuOnly || o.numGpus === 0)
  );
}

export class VastClient {
  private readonly baseUrl: string;
  constructor(private readonly opts: VastClientOptions) {
    if (!opts.apiKey) throw new VastError("no Vast.ai API key: set VAST_API_KEY (or the stack's secret fleet:vastApiKey)", null, "no_key");
    this.baseUrl = (opts.baseUrl ?? process.env.VAST_API_URL ?? "https://console.vast.ai/api/v0").replace(/\/$/, "");
  }

  private async request(method: string, path: string, body?: unknown): Promise<any> {
    const retries = this.opts.retries ?? 4;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    let last: VastError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep((this.opts.backoffMs ?? 250) * 2 ** (attempt - 1));
      let res: Response;
      try {
        res = await fetch(/^https?:/.test(path) ? path : `${this.baseUrl}${path}`, {
          method,
          headers: { Authorization: `Bearer ${this.opts.apiKey}`, Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        });
      } catch (e) {
        const timeout = (e as Error).name === "TimeoutError";
        last = new VastError(`Vast.ai ${method} ${path.split("?")[0]}: ${timeout ? `no answer within ${this.opts.timeoutMs ?? 15_000} ms` : "network error"}`, null, timeout ? "timeout" : "network");
        continue;
      }
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : {};
      } catch {
        json = { msg: text.slice(0, 200) };
      }
      if (res.ok && json?.success !== false) return json;
      // Vast's text may echo the request (its Authorization header, an api_key parameter).
      const detail = redact(String(json?.msg ?? json?.error ?? res.statusText), [this.opts.apiKey]);
      if (res.status === 401 || res.status === 403) throw new VastError(`Vast.ai rejected the API key (${res.status}): check VAST_API_KEY`, res.status, "unauthorized");
      if (res.status === 429 || res.status >= 500) {
        last = new VastError(`Vast.ai ${method} ${path.split("?")[0]}: ${res.status} ${detail}`, res.status, res.status === 429 ? "rate_limited" : "server_error");
        continue;
      }
      throw new VastError(`Vast.ai ${method} ${path.split("?")[0]}: ${res.status} ${detail}`, res.status, String(json?.error ?? (res.status === 404 ? "not_found" : "bad_request")));
    }
    throw last!;
  }

  /**
   * GPU offers meeting the requirements, cheapest first, as the official CLI searches
   * (vast-ai/vast-cli vastai/api/offers.py search_offers, vastai/api/query.py parse_query): its default
   * filters (verified, not external, rentable, not rented), gpu_name with `_` read as a space, GB
   * to MB by 1000 (offers_mult), the `reliability` field, and the disk being rented as
   * `allocated_storage` so `dph_total` includes it.
   */
  async searchOffers(q: OfferQuery): Promise<VastOffer[]> {
    const query: Record<string, unknown> = { ...SEARCH_DEFAULTS, type: "on-demand", order: [["dph_total", "asc"]], limit: q.limit ?? 64 };
    if (q.offerId !== undefined) query.id = { eq: q.offerId };
    else query.num_gpus = { gte: 1 };
    if (q.gpuName) query.gpu_name = { eq: q.gpuName.replace(/_/g, " ") };
    if (q.gpuRamMinGb !== undefined) query.gpu_ram = { gte: q.gpuRamMinGb * MB_PER_GB };
    if (q.maxDphUsd !== undefined) query.dph_total = { lte: q.maxDphUsd };
    if (q.reliabilityMin !== undefined) query.reliability = { gte: q.reliabilityMin };
    if (q.diskGb !== undefined) {
      query.disk_space = { gte: q.diskGb };
      query.allocated_storage = q.diskGb;
    }
    return (await this.bundles(query)).filter((o) => meetsGpuQuery(o, q));
  }

  /**
   * Hosts for a standby, cheapest first: on-demand (a standby must not be outbid), CPU cores
   * (cpu_cores_effective, the share the rental gets), memory (cpu_ram, MB), disk, price, reliability.
   */
  async searchCpuOffers(q: CpuOfferQuery): Promise<VastOffer[]> {
    const query: Record<string, unknown> = {
      ...SEARCH_DEFAULTS,
      type: "on-demand",
      order: [["dph_total", "asc"]],
      limit: q.limit ?? 64,
      cpu_cores_effective: { gte: q.cpuCoresMin },
      cpu_ram: { gte: q.ramGbMin * MB_PER_GB },
      disk_space: { gte: q.diskGb },
      allocated_storage: q.diskGb,
      dph_total: { lte: q.maxDphUsd },
      reliability: { gte: q.reliabilityMin },
      ...(q.cpuOnly ? { num_gpus: { eq: 0 } } : {}),
    };
    return (await this.bundles(query)).filter((o) => meetsCpuQuery(o, q));
  }

  /** POST /bundles/ with the query as its body (the official CLI's search; GET with ?q= is the older form). */
  private async bundles(query: Record<string, unknown>): Promise<VastOffer[]> {
    const json = await this.request("POST", "/bundles/", query);
    if (!Array.isArray(json?.offers)) throw new VastError("Vast.ai answered a search without an offers list", null, "malformed");
    // One offer with a field out of shape (an optional field missing or null) skips that offer, not the search.
    const parsed = (json.offers as unknown[]).map((o) => wire().OfferWire.safeParse(o));
    const good = parsed.flatMap((r) => (r.success ? [r.data] : []));
    if (!good.length && parsed.length) {
      const first = parsed.find((r) => !r.success);
      throw new VastError(`Vast.ai returned malformed offers: ${first && !first.success ? first.error.issues.map((i) => `offers[].${i.path.join(".")}: ${i.message}`).slice(0, 3).join("; ") : ""}`, null, "malformed");
    }
    return good
      .map((o) => ({
        id: o.id,
        gpuName: o.gpu_name ?? "",
        numGpus: o.num_gpus,
        gpuRamGb: (o.gpu_ram ?? 0) / MB_PER_GB,
        dphUsd: o.dph_total,
        reliability: o.reliability ?? o.reliability2 ?? 0,
        diskGb: o.disk_space,
        geolocation: o.geolocation ?? "",
        cpuCores: o.cpu_cores_effective ?? 0,
        ramGb: (o.cpu_ram ?? 0) / MB_PER_GB,
      }))
      .sort((a, b) => a.dphUsd - b.dphUsd || a.id - b.id);
  }

  /** Rents an offer. An offer that is gone is an OfferGoneError: nothing else is picked. */
  async createInstance(offerId: number, spec: { image: string; diskGb: number; onstart: string; label: string; env?: Record<string, string> }): Promise<number> {
    try {
      const json = await this.request("PUT", `/asks/${offerId}/`, { client_id: "me", image: spec.image, disk: spec.diskGb, onstart: spec.onstart, runtype: "ssh", label: spec.label, env: spec.env ?? {} });
      const id = Number(json?.new_contract);
      if (!Number.isInteger(id) || id <= 0) throw new VastError(`Vast.ai created no instance for offer ${offerId}: ${JSON.stringify(json).slice(0, 200)}`, null, "malformed");
      return id;
    } catch (e) {
      if (e instanceof VastError && (e.status === 404 || /no_such_ask|not available|already rented|unavailable/i.test(e.message + e.code))) {
        throw new OfferGoneError(`offer ${offerId} is no longer available (rented or withdrawn since the search): search again and pick another`, e.status, "offer_gone");
      }
      throw e;
    }
  }

  /** Every instance of the account, from the paged v1 list (25 a page, keyset `next_token`). */
  async showInstances(): Promise<VastInstance[]> {
    const rows: unknown[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= 400) throw new VastError("Vast.ai kept answering pages of instances (over 10,000): stopped", null, "malformed");
      const q = new URLSearchParams({ limit: "25" });
      if (token) q.set("after_token", token);
      const json = await this.request("GET", `${this.baseUrl.replace(/\/api\/v0$/, "/api/v1")}/instances/?${q}`);
      if (!Array.isArray(json?.instances)) throw new VastError("Vast.ai answered the instance list without an instances array", null, "malformed");
      rows.push(...json.instances);
      token = typeof json.next_token === "string" && json.next_token ? json.next_token : undefined;
      if (!token) break;
    }
    const list = z.array(wire().InstanceWire).safeParse(rows);
    if (!list.success) throw new VastError(`Vast.ai returned malformed instances: ${list.error.issues.map((i) => `instances[${i.path.join(".")}]: ${i.message}`).slice(0, 5).join("; ")}`, null, "malformed");
    return list.data.map((i) => ({
      id: i.id,
      status: i.actual_status ?? null,
      label: i.label ?? null,
      gpuName: i.gpu_name ?? "",
      dphUsd: i.dph_total ?? 0,
      publicIp: i.public_ipaddr ?? null,
      sshHost: i.ssh_host ?? null,
      sshPort: i.ssh_port ?? null,
      startedAt: i.start_date ? new Date(i.start_date * 1000).toISOString() : null,
      gpuUtilPct: typeof i.gpu_util === "number" && Number.isFinite(i.gpu_util) ? i.gpu_util : null,
    }));
  }

  /** Starts a stopped instance (PUT /instances/{id}/ {state: running}); its disk was kept while it was stopped. */
  async startInstance(id: number): Promise<void> {
    await this.request("PUT", `/instances/${id}/`, { state: "running" });
  }

  /** Destroys an instance; one that is already gone counts as destroyed. */
  async destroyInstance(id: number): Promise<void> {
    try {
      await this.request("DELETE", `/instances/${id}/`);
    } catch (e) {
      if (e instanceof VastError && e.status === 404) return;
      throw e;
    }
  }
}
