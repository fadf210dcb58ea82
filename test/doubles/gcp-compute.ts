import * as http from "node:http";
import { alignerRefusal } from "./monitoring-aligners";

/**
 * A local HTTP server speaking the Compute Engine v1 REST shapes the sweep uses: aggregated lists of
 * instances and disks ({items: {"zones/<z>": {instances: [...]}}, nextPageToken}) with the
 * `labels.<k>=<v>` filter, and DELETE of a zonal instance or disk (an Operation back). Bearer token checked.
 */
export interface GcpItem {
  kind: "instances" | "disks";
  name: string;
  zone: string;
  labels: Record<string, string>;
}

export class GcpComputeDouble {
  calls: { method: string; path: string }[] = [];
  /** Instances for GET zones/{z}/instances/{name}: {id, status}. */
  instances: Record<string, { id: string; status: string }> = {};
  /**
   * Cloud Monitoring v3 timeSeries.list: the aligned points per metric type (served at
   * /v3/projects/{p}/timeSeries); the aligner is checked against the discovery document (monitoring-aligners.ts).
   */
  series: Record<string, number[]> = {};
  pageSize = 2;
  private server?: http.Server;
  constructor(public items: GcpItem[], readonly project = "proj-test", readonly token = "gcp-test-token") {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/compute/v1/`;
  }
  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => this.server?.close(() => r()));
  }

  private send(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    this.calls.push({ method: req.method ?? "", path: url.pathname + url.search });
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.send(res, 401, { error: { code: 401, message: "Request had invalid authentication credentials." } });
    if (req.method === "GET" && url.pathname === `/v3/projects/${this.project}/timeSeries`) {
      const type = /metric\.type="([^"]+)"/.exec(url.searchParams.get("filter") ?? "")?.[1] ?? "";
      const refusal = alignerRefusal(url.searchParams.get("aggregation.perSeriesAligner"), type, url.searchParams.get("aggregation.alignmentPeriod"));
      if (refusal) return this.send(res, 400, { error: { code: 400, message: refusal, status: "INVALID_ARGUMENT" } });
      const points = this.series[type];
      return this.send(res, 200, points ? { timeSeries: [{ metric: { type }, points: points.map((v) => ({ interval: { endTime: "2026-11-22T12:00:00Z" }, value: { doubleValue: v } })) }] } : {});
    }
    const prefix = `/compute/v1/projects/${this.project}/`;
    if (!url.pathname.startsWith(prefix)) return this.send(res, 404, { error: { code: 404, message: `The resource 'projects/${url.pathname.split("/")[4]}' was not found` } });
    const rest = url.pathname.slice(prefix.length);
    const agg = /^aggregated\/(instances|disks)$/.exec(rest);
    if (req.method === "GET" && agg) {
      const [, k, v] = /^labels\.([a-z0-9_-]+)=(.*)$/.exec(url.searchParams.get("filter") ?? "") ?? [];
      const matching = this.items.filter((i) => i.kind === agg[1] && (!k || i.labels[k] === v));
      const start = Number(url.searchParams.get("pageToken") ?? "0");
      const page = matching.slice(start, start + this.pageSize);
      const items: Record<string, Record<string, unknown[]>> = {};
      for (const i of page) (items[`zones/${i.zone}`] ??= { [agg[1]!]: [] })[agg[1]!]!.push({ id: String(1000 + this.items.indexOf(i)), name: i.name, zone: `https://www.googleapis.com/compute/v1/projects/${this.project}/zones/${i.zone}`, labels: i.labels });
      return this.send(res, 200, { kind: `compute#${agg[1] === "instances" ? "instance" : "disk"}AggregatedList`, items, ...(start + this.pageSize < matching.length ? { nextPageToken: String(start + this.pageSize) } : {}) });
    }
    const get = /^zones\/([a-z0-9-]+)\/instances\/([a-z0-9-]+)$/.exec(rest);
    if (req.method === "GET" && get) {
      const inst = this.instances[get[2]!];
      if (!inst) return this.send(res, 404, { error: { code: 404, message: `The resource 'projects/${this.project}/zones/${get[1]}/instances/${get[2]}' was not found` } });
      return this.send(res, 200, { kind: "compute#instance", name: get[2], id: inst.id, status: inst.status, zone: get[1] });
    }
    const del = /^zones\/([a-z0-9-]+)\/(instances|disks)\/([a-z0-9-]+)$/.exec(rest);
    if (req.method === "DELETE" && del) {
      const i = this.items.findIndex((x) => x.kind === del[2] && x.zone === del[1] && x.name === del[3]);
      if (i < 0) return this.send(res, 404, { error: { code: 404, message: `The resource '${del[3]}' was not found` } });
      this.items.splice(i, 1);
      return this.send(res, 200, { kind: "compute#operation", name: `operation-${Date.now()}`, status: "RUNNING", operationType: "delete" });
    }
    return this.send(res, 404, { error: { code: 404, message: rest } });
  }
}
