// A GCP project as a local HTTP server, for the engine tests' gcp provider plugin
// (test/engine/plugins/gcp.ts). Every request is routed and checked by Google's discovery documents
// (gcp-discovery.ts: compute.v1 under /compute/v1/, iam.v1 under /iam/, cloudresourcemanager.v1 under
// /crm/); the rules a schema cannot state are the documented ones, each cited where it is checked.
// What exists lives here, so a VM deleted here (a preemption, a hand) is gone for the next refresh.
import { randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import { DiscoveryApi, GoogleApiError, type Routed } from "./gcp-discovery";
import { alignerRefusal } from "./monitoring-aligners";
import { GcpCredentialJudge, UNAUTHENTICATED } from "./gcp-credentials";

type Obj = Record<string, any>;

const API_PREFIX = { compute: "/", iam: "/iam/", crm: "/crm/", monitoring: "/monitoring/", billing: "/billing/" } as const;
type ApiName = keyof typeof API_PREFIX;

/** The relative form of a compute URL: `projects/p/zones/z/instances/n` from a full or partial link. */
export function relativeLink(link: string): string {
  return link.replace(/^https?:\/\/[^/]+\/compute\/v1\//, "");
}

/**
 * Label keys and values (https://cloud.google.com/compute/docs/labeling-resources#requirements):
 * at most 64 labels, keys 1-63 characters starting with a lowercase letter, values 0-63, only
 * lowercase letters, digits, `_` and `-`.
 */
function checkLabels(labels: Obj | undefined, at: string) {
  const entries = Object.entries(labels ?? {});
  if (entries.length > 64)
    throw new GoogleApiError(400, `Invalid value for field '${at}': too many labels (${entries.length} > 64).`);
  for (const [k, v] of entries) {
    if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k))
      throw new GoogleApiError(400, `Invalid value for field '${at}': label key '${k}' violates format constraints.`);
    if (typeof v !== "string" || !/^[a-z0-9_-]{0,63}$/.test(v))
      throw new GoogleApiError(
        400,
        `Invalid value for field '${at}.${k}': '${v}'. Label value violates format constraints.`,
      );
  }
}

/** A compute list filter as a predicate (comparisons joined by AND; what this double understands). */
function parseFilter(filter: string): (o: Obj) => boolean {
  if (!filter.trim()) return () => true;
  const terms = filter.split(/\s+AND\s+/).map((t) => {
    const m = /^\(?\s*([A-Za-z][A-Za-z0-9_.-]*)\s*(=|!=|eq|ne)\s*"?([^"()]*)"?\s*\)?$/.exec(t.trim());
    if (!m)
      throw new GoogleApiError(400, `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
    const [, field, op, value] = m;
    return (o: Obj) => {
      const v = field!.split(".").reduce<any>((x, k) => (x == null ? undefined : x[k]), o);
      return (op === "=" || op === "eq") === (String(v ?? "") === value);
    };
  });
  return (o) => terms.every((t) => t(o));
}

function fingerprint(): string {
  return randomBytes(8).toString("base64");
}

export class GcpCloud {
  readonly apis: Record<ApiName, DiscoveryApi> = {
    compute: new DiscoveryApi("compute.v1"),
    iam: new DiscoveryApi("iam.v1"),
    crm: new DiscoveryApi("cloudresourcemanager.v1"),
    monitoring: new DiscoveryApi("monitoring.v3"),
    billing: new DiscoveryApi("cloudbilling.v1"),
  };
  /** Cloud Monitoring points by metric type (5-minute means, as doubles), for timeSeries.list. */
  series: Record<string, number[]> = {};
  /** Compute resources by relative link (projects/p/zones/z/instances/n, projects/p/global/networks/n). */
  readonly compute = new Map<string, Obj>();
  readonly serviceAccounts = new Map<string, Obj>();
  policy: Obj = {
    version: 1,
    etag: "BwXhqDmLqJk=",
    bindings: [{ role: "roles/owner", members: ["user:owner@example.com"] }],
  };
  /** Every request, for assertions: `METHOD-ID` (compute.instances.insert) and its target. */
  readonly calls: { id: string; path: string }[] = [];
  /** What the double accepts as credentials: the fixed token, issued tokens until they expire, SA JWTs. */
  readonly credentials = new GcpCredentialJudge();
  /** Compute Engine's SKUs in the Cloud Billing Catalog (cloudbilling.v1 Sku objects), set by a test. */
  skus: Obj[] = [];
  private server?: http.Server;
  private nextId = 1000n;
  private nextIp = 10;

  constructor(
    readonly project = "fleet-engine-test",
    readonly token = "gcp-engine-test-token",
  ) {
    this.credentials.acceptToken(token);
    // A new project's default network and its pre-made rules (https://cloud.google.com/vpc/docs/firewalls#more_rules_default_vpc).
    const net = `projects/${project}/global/networks/default`;
    this.compute.set(net, {
      kind: "compute#network",
      name: "default",
      autoCreateSubnetworks: true,
      selfLink: this.link(net),
    });
    for (const [name, ports] of [
      ["default-allow-ssh", ["22"]],
      ["default-allow-rdp", ["3389"]],
    ] as const) {
      const rel = `projects/${project}/global/firewalls/${name}`;
      this.compute.set(rel, {
        kind: "compute#firewall",
        name,
        network: this.link(net),
        direction: "INGRESS",
        sourceRanges: ["0.0.0.0/0"],
        allowed: [{ IPProtocol: "tcp", ports }],
        selfLink: this.link(rel),
      });
    }
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/`;
  }
  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  link(rel: string): string {
    return `https://www.googleapis.com/compute/v1/${rel}`;
  }

  /** Instances of this project by name. */
  instances(): Obj[] {
    return [...this.compute.entries()].filter(([k]) => /\/instances\/[^/]+$/.test(k)).map(([, v]) => v);
  }

  /**
   * What Compute Engine does to a Spot VM it preempts: its instanceTerminationAction, DELETE (the VM
   * and its auto-delete disks are gone) or STOP (TERMINATED, disks kept).
   */
  preempt(name: string): void {
    const [rel, vm] = this.find("instances", name);
    if (vm.scheduling?.provisioningModel !== "SPOT") throw new Error(`${name} is not a Spot VM`);
    if (vm.scheduling?.instanceTerminationAction === "DELETE") this.deleteInstance(rel, vm);
    else vm.status = "TERMINATED";
  }

  /** Deleted outside Fleet (the console, gcloud). */
  deleteByHand(kind: "instances" | "disks" | "firewalls", name: string): void {
    const [rel, vm] = this.find(kind, name);
    if (kind === "instances") this.deleteInstance(rel, vm);
    else this.compute.delete(rel);
  }

  private find(kind: string, name: string): [string, Obj] {
    const hit = [...this.compute.entries()].find(([k]) => k.endsWith(`/${kind}/${name}`));
    if (!hit) throw new Error(`no ${kind} ${name} in the double`);
    return hit;
  }

  private deleteInstance(rel: string, vm: Obj) {
    for (const d of vm.disks ?? []) {
      const src = relativeLink(d.source);
      const disk = this.compute.get(src);
      if (!disk) continue;
      disk.users = (disk.users ?? []).filter((u: string) => u !== vm.selfLink);
      if (d.autoDelete) this.compute.delete(src);
    }
    this.compute.delete(rel);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json; charset=UTF-8" });
      res.end(JSON.stringify(body));
    };
    try {
      if (this.credentials.refusal(req.headers.authorization) !== null)
        throw new GoogleApiError(401, UNAUTHENTICATED, "UNAUTHENTICATED");
      const url = new URL(req.url ?? "/", "http://x");
      const api =
        (Object.keys(API_PREFIX) as ApiName[]).find((a) => a !== "compute" && url.pathname.startsWith(API_PREFIX[a])) ??
        "compute";
      const routed = this.apis[api].route(
        req.method ?? "GET",
        url.pathname.slice(API_PREFIX[api].length - 1),
        url.searchParams,
      );
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        throw new GoogleApiError(400, "Invalid JSON payload received.");
      }
      this.apis[api].checkBody(routed.method, body);
      this.calls.push({ id: routed.method.id, path: url.pathname });
      send(200, this.dispatch(routed, (body ?? {}) as Obj));
    } catch (e) {
      if (e instanceof GoogleApiError) return send(e.code, e.body());
      send(500, { error: { code: 500, message: String(e), status: "INTERNAL" } });
    }
  }

  private dispatch({ method, params }: Routed, body: Obj): Obj {
    const p = params;
    if (p.project && p.project !== this.project)
      throw new GoogleApiError(404, `The resource 'projects/${p.project}' was not found`);
    switch (method.id) {
      case "cloudbilling.services.skus.list":
        return this.listSkus(p);
      case "compute.zones.get":
        return {
          kind: "compute#zone",
          name: p.zone,
          status: "UP",
          region: this.link(`projects/${this.project}/regions/${p.zone!.replace(/-[a-z]$/, "")}`),
        };
      case "compute.zoneOperations.get":
      case "compute.zoneOperations.wait":
      case "compute.globalOperations.get":
      case "compute.globalOperations.wait":
      case "compute.regionOperations.get":
      case "compute.regionOperations.wait":
        return { kind: "compute#operation", name: p.operation, status: "DONE", progress: 100 };
      case "compute.instances.insert":
        return this.insertInstance(p.zone!, body);
      case "compute.instances.aggregatedList":
        return this.aggregatedInstances(p);
      case "compute.instances.getGuestAttributes":
        return this.guestAttributes(this.rel(method.id, p), p.queryPath);
      case "compute.disks.insert":
        return this.insertDisk(p.zone!, body);
      case "compute.firewalls.insert":
        return this.insertFirewall(body);
      case "compute.networks.insert":
        return this.insertNetwork(body);
      case "compute.networks.delete":
        return this.op(method.id, p, () => this.deleteNetwork(this.rel(method.id, p)));
      case "compute.routers.insert":
        return this.insertRouter(p.region!, body);
      case "compute.routers.get":
        return this.get(this.rel(method.id, p));
      case "compute.routers.patch":
        return this.op(method.id, p, () => this.patchRouter(this.rel(method.id, p), body));
      case "compute.instances.get":
      case "compute.disks.get":
      case "compute.firewalls.get":
      case "compute.networks.get":
        return this.get(this.rel(method.id, p));
      case "compute.instances.delete":
        return this.op(method.id, p, () =>
          this.deleteInstance(this.rel(method.id, p), this.get(this.rel(method.id, p))),
        );
      case "compute.disks.delete":
        return this.op(method.id, p, () => this.deleteDisk(this.rel(method.id, p)));
      case "compute.firewalls.delete":
      case "compute.routers.delete":
        return this.op(method.id, p, () => this.remove(this.rel(method.id, p)));
      case "compute.firewalls.patch":
        return this.op(method.id, p, () => this.patchFirewall(this.rel(method.id, p), body));
      case "compute.instances.setLabels":
      case "compute.disks.setLabels":
        return this.op(method.id, p, () => this.setLabels(method.id, p, body));
      case "compute.instances.setMetadata":
        return this.op(method.id, p, () => this.setFingerprinted(this.rel(method.id, p), "metadata", body));
      case "compute.instances.setTags":
        return this.op(method.id, p, () => this.setFingerprinted(this.rel(method.id, p), "tags", body));
      case "compute.instances.setScheduling":
        return this.op(method.id, p, () => this.setScheduling(this.rel(method.id, p), body));
      case "compute.instances.setMachineType":
        return this.op(method.id, p, () =>
          this.whileStopped(
            this.rel(method.id, p),
            (vm) => (vm.machineType = this.machineType(p.zone!, body.machineType)),
          ),
        );
      case "compute.instances.stop":
        return this.op(method.id, p, () => void (this.get(this.rel(method.id, p)).status = "TERMINATED"));
      case "compute.instances.start":
        return this.op(method.id, p, () => void (this.get(this.rel(method.id, p)).status = "RUNNING"));
      case "compute.disks.resize":
        return this.op(method.id, p, () => this.resizeDisk(this.rel(method.id, p), body));
      case "iam.projects.serviceAccounts.create":
        return this.createServiceAccount(p.name!, body);
      case "iam.projects.serviceAccounts.get":
        return this.getServiceAccount(p.name!);
      case "iam.projects.serviceAccounts.patch":
        return Object.assign(this.getServiceAccount(p.name!), body.serviceAccount ?? {});
      case "iam.projects.serviceAccounts.delete":
        this.getServiceAccount(p.name!);
        this.serviceAccounts.delete(this.saKey(p.name!));
        return {};
      case "monitoring.projects.timeSeries.list":
        return this.timeSeries(p);
      case "cloudresourcemanager.projects.getIamPolicy":
        this.checkResource(p.resource!);
        return structuredClone(this.policy);
      case "cloudresourcemanager.projects.setIamPolicy":
        return this.setIamPolicy(p.resource!, body);
      default:
        throw new GoogleApiError(
          501,
          `${method.id} is defined by Google but not served by this double`,
          "UNIMPLEMENTED",
        );
    }
  }

  /**
   * aggregatedList (https://cloud.google.com/compute/docs/reference/rest/v1/instances/aggregatedList):
   * `items` keyed by scope ("zones/<z>"), paged by maxResults (at most 500) and nextPageToken; the
   * filter holds `field = "value"` / `!=` comparisons joined by AND, with optional parentheses.
   */
  /**
   * services.skus.list (cloudbilling.v1): only a service that exists (Compute Engine's id here),
   * pageSize up to 5000 (the documented default), an opaque pageToken, prices in USD unless
   * another currencyCode is asked for (which this double does not convert: refused).
   */
  private listSkus(p: Record<string, string>): Obj {
    if (p.parent !== "services/6F81-5844-456A") throw new GoogleApiError(404, `Service ${p.parent} not found.`);
    if (p.currencyCode && p.currencyCode !== "USD") throw new GoogleApiError(400, "This double prices in USD only.");
    const size = Number(p.pageSize ?? 5000);
    if (!Number.isInteger(size) || size < 1 || size > 5000) throw new GoogleApiError(400, "Invalid value for field 'pageSize'.");
    const start = p.pageToken ? Number(Buffer.from(p.pageToken, "base64").toString("utf8").replace(/^sku:/, "")) : 0;
    if (!Number.isInteger(start) || start < 0) throw new GoogleApiError(400, "Invalid page token.");
    const page = this.skus.slice(start, start + size);
    const next = start + size < this.skus.length ? Buffer.from(`sku:${start + size}`).toString("base64") : "";
    return { skus: page, nextPageToken: next };
  }

  private aggregatedInstances(p: Record<string, string>): Obj {
    const max = Number(p.maxResults ?? 500);
    if (!Number.isInteger(max) || max < 0 || max > 500)
      throw new GoogleApiError(
        400,
        `Invalid value for field 'maxResults': '${p.maxResults}'. Must be less than or equal to 500`,
      );
    const match = parseFilter(p.filter ?? "");
    const all = this.instances().filter(match);
    const start = Number(p.pageToken ?? 0);
    // A server may return fewer than maxResults per page; `pageSize` makes it do so.
    const page = all.slice(start, start + Math.min(max || 500, this.pageSize));
    const items: Obj = {};
    for (const vm of page) {
      const scope = `zones/${vm.zone.split("/").pop()}`;
      (items[scope] ??= { instances: [] }).instances.push(vm);
    }
    return {
      kind: "compute#instanceAggregatedList",
      items,
      ...(start + page.length < all.length ? { nextPageToken: String(start + page.length) } : {}),
    };
  }

  /** Most items per list page this server returns, whatever maxResults asks. */
  pageSize = 500;

  /** What a VM wrote to its guest attributes (the guest's PUTs to the metadata server), by namespace. */
  readonly guest = new Map<string, { namespace: string; key: string; value: string }[]>();

  /** The guest writes an attribute (as curl -X PUT .../guest-attributes/<ns>/<key> does on the VM). */
  setGuestAttribute(name: string, namespace: string, key: string, value: string): void {
    const [rel, vm] = this.find("instances", name);
    if (
      !(vm.metadata?.items ?? []).some(
        (i: Obj) => i.key === "enable-guest-attributes" && String(i.value).toUpperCase() === "TRUE",
      )
    ) {
      throw new Error(`${name} has no enable-guest-attributes=TRUE metadata: its guest cannot write attributes`);
    }
    const list = (this.guest.get(rel) ?? []).filter((a) => !(a.namespace === namespace && a.key === key));
    this.guest.set(rel, [...list, { namespace, key, value }]);
  }

  private guestAttributes(rel: string, queryPath: string | undefined): Obj {
    this.get(rel);
    const ns = (queryPath ?? "").replace(/\/$/, "");
    const items = (this.guest.get(rel) ?? []).filter((a) => !ns || a.namespace === ns);
    // Nothing written under the path: the API answers 404 "The resource ... was not found".
    if (!items.length)
      throw new GoogleApiError(404, `The resource '${rel}/guestAttributes/${queryPath ?? ""}' was not found`);
    return {
      kind: "compute#guestAttributes",
      queryPath,
      queryValue: { items },
      selfLink: this.link(`${rel}/getGuestAttributes`),
    };
  }

  /** timeSeries.list with the aligner checked against the metric's kind (monitoring-aligners.ts). */
  private timeSeries(p: Record<string, string>): Obj {
    if (p.name !== `projects/${this.project}`) throw new GoogleApiError(404, `The resource '${p.name}' was not found`);
    const type = /metric\.type="([^"]+)"/.exec(p.filter ?? "")?.[1] ?? "";
    const refusal = alignerRefusal(
      p["aggregation.perSeriesAligner"] ?? null,
      type,
      p["aggregation.alignmentPeriod"] ?? null,
    );
    if (refusal) throw new GoogleApiError(400, refusal);
    const points = this.series[type];
    return points
      ? {
          timeSeries: [
            {
              metric: { type },
              valueType: "DOUBLE",
              points: points.map((v) => ({
                interval: { endTime: new Date().toISOString() },
                value: { doubleValue: v },
              })),
            },
          ],
        }
      : {};
  }

  /** The relative link a method's path parameters name. */
  private rel(methodId: string, p: Record<string, string>): string {
    const kind = methodId.split(".")[1]!;
    const name = p.instance ?? p.disk ?? p.firewall ?? p.network ?? p.router ?? p.resource;
    if (p.zone) return `projects/${p.project}/zones/${p.zone}/${kind}/${name}`;
    if (p.region) return `projects/${p.project}/regions/${p.region}/${kind}/${name}`;
    return `projects/${p.project}/global/${kind}/${name}`;
  }

  /** Deletes a resource that needs no check beyond existing (a rule, a router with its NATs). */
  private remove(rel: string): void {
    this.get(rel);
    this.compute.delete(rel);
  }

  private get(rel: string): Obj {
    const r = this.compute.get(rel);
    if (!r) throw new GoogleApiError(404, `The resource '${rel}' was not found`);
    return r;
  }

  private op(methodId: string, p: Record<string, string>, effect: () => void): Obj {
    effect();
    const name = `operation-${Date.now()}-${randomUUID().slice(0, 8)}`;
    const scope = p.zone
      ? `projects/${p.project}/zones/${p.zone}`
      : p.region
        ? `projects/${p.project}/regions/${p.region}`
        : `projects/${p.project}/global`;
    return {
      kind: "compute#operation",
      id: String(this.nextId++),
      name,
      operationType: methodId.split(".").pop(),
      targetLink: this.link(this.rel(methodId, p)),
      status: "DONE",
      progress: 100,
      selfLink: this.link(`${scope}/operations/${name}`),
      ...(p.zone ? { zone: this.link(scope) } : {}),
      ...(p.region ? { region: this.link(scope) } : {}),
    };
  }

  private checkNew(rel: string, what: string) {
    if (this.compute.has(rel)) throw new GoogleApiError(409, `The resource '${rel}' already exists`);
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(what))
      throw new GoogleApiError(400, `Invalid value for field 'resource.name': '${what}'.`);
  }

  /** machineType must be a URL of the instance's own zone (https://cloud.google.com/compute/docs/reference/rest/v1/instances/insert). */
  private machineType(zone: string, v: string): string {
    const m = /^(?:projects\/[^/]+\/)?zones\/([^/]+)\/machineTypes\/([a-z0-9-]+)$/.exec(relativeLink(v ?? ""));
    if (!m)
      throw new GoogleApiError(
        400,
        `Invalid value for field 'resource.machineType': '${v}'. Must be a URL to a valid Compute resource of the correct type.`,
      );
    if (m[1] !== zone)
      throw new GoogleApiError(
        400,
        `Invalid value for field 'resource.machineType': '${v}'. Machine type must be in the instance's zone ${zone}.`,
      );
    return this.link(`projects/${this.project}/zones/${zone}/machineTypes/${m[2]}`);
  }

  private network(v: string | undefined, at: string): string {
    const rel = relativeLink(v ?? `global/networks/default`).replace(/^global\//, `projects/${this.project}/global/`);
    if (!this.compute.has(rel))
      throw new GoogleApiError(
        400,
        `Invalid value for field '${at}': '${v}'. The referenced network resource cannot be found.`,
      );
    return this.link(rel);
  }

  private insertInstance(zone: string, body: Obj): Obj {
    const rel = `projects/${this.project}/zones/${zone}/instances/${body.name}`;
    this.checkNew(rel, body.name);
    checkLabels(body.labels, "resource.labels");
    const machineType = this.machineType(zone, body.machineType);
    const disks: Obj[] = body.disks ?? [];
    if (disks.filter((d) => d.boot).length !== 1)
      throw new GoogleApiError(400, "Invalid value for field 'resource.disks': exactly one boot disk is required.");
    if (!body.networkInterfaces?.length)
      throw new GoogleApiError(
        400,
        "Invalid value for field 'resource.networkInterfaces': at least one network interface is required.",
      );
    const sched = body.scheduling ?? {};
    // Spot VMs (https://cloud.google.com/compute/docs/instances/create-use-spot): no automatic restart,
    // TERMINATE on host maintenance; a termination action or max run duration needs a Spot or timed VM.
    if (
      sched.provisioningModel === "SPOT" &&
      (sched.automaticRestart === true || sched.onHostMaintenance === "MIGRATE")
    ) {
      throw new GoogleApiError(
        400,
        "Invalid value for field 'resource.scheduling': Spot VMs must not restart automatically and must TERMINATE on host maintenance.",
      );
    }
    if (sched.instanceTerminationAction && sched.provisioningModel !== "SPOT" && !sched.maxRunDuration) {
      throw new GoogleApiError(
        400,
        "Invalid value for field 'resource.scheduling.instanceTerminationAction': only Spot VMs or VMs with a run duration have a termination action.",
      );
    }
    for (const sa of body.serviceAccounts ?? []) {
      if (sa.email !== "default" && ![...this.serviceAccounts.values()].some((s) => s.email === sa.email)) {
        throw new GoogleApiError(
          400,
          `The user does not have access to service account '${sa.email}'. User: 'fleet'. Ask a project owner to grant you the iam.serviceAccountUser role on the service account`,
        );
      }
    }
    const selfLink = this.link(rel);
    const madeDisks = disks.map((d, i) => {
      if (d.source) {
        const src = relativeLink(d.source);
        const disk = this.compute.get(src);
        if (!disk)
          throw new GoogleApiError(
            400,
            `Invalid value for field 'resource.disks[${i}].source': '${d.source}'. The referenced disk resource cannot be found.`,
          );
        if (!src.includes(`/zones/${zone}/`))
          throw new GoogleApiError(
            400,
            `Invalid value for field 'resource.disks[${i}].source': disk is in another zone.`,
          );
        if ((disk.users ?? []).length && (d.mode ?? "READ_WRITE") === "READ_WRITE")
          throw new GoogleApiError(400, `The disk resource '${src}' is already being used by '${disk.users[0]}'`);
        disk.users = [...(disk.users ?? []), selfLink];
        return {
          ...d,
          source: this.link(src),
          index: i,
          kind: "compute#attachedDisk",
          mode: d.mode ?? "READ_WRITE",
          type: "PERSISTENT",
        };
      }
      const ip = d.initializeParams ?? {};
      if (!/^(?:projects\/[^/]+\/)?global\/images\/(?:family\/)?[a-z0-9-]+$/.test(relativeLink(ip.sourceImage ?? ""))) {
        throw new GoogleApiError(
          400,
          `Invalid value for field 'resource.disks[${i}].initializeParams.sourceImage': '${ip.sourceImage}'. The referenced image resource cannot be found.`,
        );
      }
      const diskName = ip.diskName ?? body.name;
      const diskRel = `projects/${this.project}/zones/${zone}/disks/${diskName}`;
      this.compute.set(diskRel, {
        kind: "compute#disk",
        name: diskName,
        sizeGb: String(ip.diskSizeGb ?? 10),
        sourceImage: ip.sourceImage,
        status: "READY",
        users: [selfLink],
        selfLink: this.link(diskRel),
      });
      return {
        boot: true,
        autoDelete: d.autoDelete ?? true,
        deviceName: d.deviceName ?? "persistent-disk-0",
        source: this.link(diskRel),
        index: i,
        kind: "compute#attachedDisk",
        mode: "READ_WRITE",
        type: "PERSISTENT",
        diskSizeGb: String(ip.diskSizeGb ?? 10),
      };
    });
    const nics = body.networkInterfaces.map((n: Obj, i: number) => ({
      kind: "compute#networkInterface",
      name: `nic${i}`,
      network: this.network(n.network, `resource.networkInterfaces[${i}].network`),
      networkIP: `10.128.0.${this.nextIp}`,
      accessConfigs: (n.accessConfigs ?? []).map((a: Obj) => ({
        kind: "compute#accessConfig",
        type: a.type ?? "ONE_TO_ONE_NAT",
        name: a.name ?? "External NAT",
        natIP: a.natIP ?? `203.0.113.${this.nextIp++}`,
        networkTier: a.networkTier ?? "PREMIUM",
      })),
    }));
    this.compute.set(rel, {
      ...body,
      kind: "compute#instance",
      id: String(this.nextId++),
      creationTimestamp: new Date().toISOString(),
      zone: this.link(`projects/${this.project}/zones/${zone}`),
      machineType,
      status: "RUNNING",
      disks: madeDisks,
      networkInterfaces: nics,
      scheduling: {
        automaticRestart: true,
        onHostMaintenance: "MIGRATE",
        preemptible: false,
        provisioningModel: "STANDARD",
        ...sched,
      },
      metadata: { kind: "compute#metadata", items: body.metadata?.items ?? [], fingerprint: fingerprint() },
      tags: { items: body.tags?.items ?? [], fingerprint: fingerprint() },
      labels: body.labels ?? {},
      labelFingerprint: fingerprint(),
      fingerprint: fingerprint(),
      cpuPlatform: "Intel Broadwell",
      selfLink,
    });
    return this.op("compute.instances.insert", { project: this.project, zone, instance: body.name }, () => {});
  }

  private insertDisk(zone: string, body: Obj): Obj {
    const rel = `projects/${this.project}/zones/${zone}/disks/${body.name}`;
    this.checkNew(rel, body.name);
    checkLabels(body.labels, "resource.labels");
    // `type` is a disk type URL of the disk's zone (https://cloud.google.com/compute/docs/reference/rest/v1/disks).
    if (
      body.type &&
      !new RegExp(
        `^(?:projects/[^/]+/)?zones/${zone}/diskTypes/(pd-standard|pd-balanced|pd-ssd|pd-extreme|hyperdisk-balanced)$`,
      ).test(relativeLink(body.type))
    ) {
      throw new GoogleApiError(
        400,
        `Invalid value for field 'resource.type': '${body.type}'. Must be a URL to a valid Compute resource of the correct type.`,
      );
    }
    this.compute.set(rel, {
      ...body,
      kind: "compute#disk",
      id: String(this.nextId++),
      sizeGb: String(body.sizeGb ?? 500),
      status: "READY",
      zone: this.link(`projects/${this.project}/zones/${zone}`),
      labelFingerprint: fingerprint(),
      users: [],
      selfLink: this.link(rel),
      creationTimestamp: new Date().toISOString(),
    });
    return this.op("compute.disks.insert", { project: this.project, zone, disk: body.name }, () => {});
  }

  private deleteDisk(rel: string) {
    const disk = this.get(rel);
    if ((disk.users ?? []).length)
      throw new GoogleApiError(
        400,
        `The disk resource '${rel}' is already being used by '${disk.users[0]}'`,
        "FAILED_PRECONDITION",
      );
    this.compute.delete(rel);
  }

  private resizeDisk(rel: string, body: Obj) {
    const disk = this.get(rel);
    if (Number(body.sizeGb) < Number(disk.sizeGb))
      throw new GoogleApiError(400, `Invalid value for field 'sizeGb': '${body.sizeGb}'. Disks cannot be shrunk.`);
    disk.sizeGb = String(body.sizeGb);
  }

  private insertFirewall(body: Obj): Obj {
    const rel = `projects/${this.project}/global/firewalls/${body.name}`;
    this.checkNew(rel, body.name);
    const fw = {
      ...body,
      kind: "compute#firewall",
      id: String(this.nextId++),
      network: this.network(body.network, "resource.network"),
      direction: body.direction ?? "INGRESS",
      priority: body.priority ?? 1000,
      selfLink: this.link(rel),
    };
    this.checkFirewall(fw);
    this.compute.set(rel, fw);
    return this.op("compute.firewalls.insert", { project: this.project, firewall: body.name }, () => {});
  }

  /** networks.insert: an auto-mode network gets a subnet per region from GCP, and no firewall rules. */
  private insertNetwork(body: Obj): Obj {
    const rel = `projects/${this.project}/global/networks/${body.name}`;
    this.checkNew(rel, body.name);
    this.compute.set(rel, {
      ...body,
      kind: "compute#network",
      id: String(this.nextId++),
      autoCreateSubnetworks: body.autoCreateSubnetworks ?? false,
      routingConfig: { routingMode: body.routingConfig?.routingMode ?? "REGIONAL" },
      selfLink: this.link(rel),
    });
    return this.op("compute.networks.insert", { project: this.project, network: body.name }, () => {});
  }

  /** A network in use (a VM's interface, a firewall rule, a router) cannot be deleted. */
  private deleteNetwork(rel: string) {
    const self = this.get(rel).selfLink;
    for (const [user, r] of this.compute) {
      const nets = [r.network, ...(r.networkInterfaces ?? []).map((n: Obj) => n.network)];
      if (user !== rel && nets.includes(self))
        throw new GoogleApiError(
          400,
          `The network resource '${rel}' is already being used by '${user}'`,
          "FAILED_PRECONDITION",
        );
    }
    this.compute.delete(rel);
  }

  private insertRouter(region: string, body: Obj): Obj {
    const rel = `projects/${this.project}/regions/${region}/routers/${body.name}`;
    this.checkNew(rel, body.name);
    const router = {
      ...body,
      kind: "compute#router",
      id: String(this.nextId++),
      network: this.network(body.network, "resource.network"),
      region: this.link(`projects/${this.project}/regions/${region}`),
      nats: [],
      selfLink: this.link(rel),
    };
    this.checkNats(body.nats ?? []);
    router.nats = body.nats ?? [];
    this.compute.set(rel, router);
    return this.op("compute.routers.insert", { project: this.project, region, router: body.name }, () => {});
  }

  /** routers.patch: a Cloud NAT is a `nats` entry of its router (what google_compute_router_nat patches). */
  private patchRouter(rel: string, body: Obj) {
    const router = this.get(rel);
    if (body.network && this.network(body.network, "resource.network") !== router.network)
      throw new GoogleApiError(400, "Invalid value for field 'resource.network': a router's network cannot change.");
    this.checkNats(body.nats ?? router.nats);
    Object.assign(router, body.nats ? { nats: body.nats } : {}, body.description ? { description: body.description } : {});
  }

  /** RouterNat (compute.v1): a name, and which subnets and addresses; names unique on the router. */
  private checkNats(nats: Obj[]) {
    const names = new Set<string>();
    nats.forEach((n, i) => {
      if (!n.name || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(n.name))
        throw new GoogleApiError(400, `Invalid value for field 'resource.nats[${i}].name': '${n.name ?? ""}'.`);
      if (names.has(n.name))
        throw new GoogleApiError(400, `Invalid value for field 'resource.nats[${i}].name': '${n.name}'. Duplicate.`);
      names.add(n.name);
      if (n.natIpAllocateOption === "MANUAL_ONLY" && !n.natIps?.length)
        throw new GoogleApiError(400, `Invalid value for field 'resource.nats[${i}].natIps': MANUAL_ONLY needs addresses.`);
    });
  }

  private patchFirewall(rel: string, body: Obj) {
    const fw = { ...this.get(rel), ...body };
    this.checkFirewall(fw);
    this.compute.set(rel, fw);
  }

  /** Firewall rules (https://cloud.google.com/vpc/docs/firewalls#firewall_rule_components): an ingress rule needs a source; ranges are CIDRs. */
  private checkFirewall(fw: Obj) {
    if (!fw.allowed?.length && !fw.denied?.length)
      throw new GoogleApiError(400, "Invalid value for field 'resource': a firewall rule needs allowed or denied.");
    if (
      fw.direction === "INGRESS" &&
      !fw.sourceRanges?.length &&
      !fw.sourceTags?.length &&
      !fw.sourceServiceAccounts?.length
    ) {
      throw new GoogleApiError(400, "Invalid value for field 'resource.sourceRanges': an ingress rule needs a source.");
    }
    for (const r of fw.sourceRanges ?? []) {
      if (!/^(\d{1,3}\.){3}\d{1,3}(\/\d{1,2})?$/.test(r) && !/^[0-9a-f:]+(\/\d{1,3})?$/i.test(r)) {
        throw new GoogleApiError(
          400,
          `Invalid value for field 'resource.sourceRanges[0]': '${r}'. Must be a CIDR address range that is contained in the network.`,
        );
      }
    }
  }

  private setLabels(methodId: string, p: Record<string, string>, body: Obj) {
    const r = this.get(this.rel(methodId, p));
    checkLabels(body.labels, "labels");
    // setLabels is optimistic: a stale labelFingerprint is refused (412 conditionNotMet).
    if (body.labelFingerprint !== r.labelFingerprint)
      throw new GoogleApiError(
        412,
        "Supplied fingerprint does not match current resource fingerprint.",
        "FAILED_PRECONDITION",
      );
    r.labels = body.labels ?? {};
    r.labelFingerprint = fingerprint();
  }

  private setFingerprinted(rel: string, field: "metadata" | "tags", body: Obj) {
    const r = this.get(rel);
    if (body.fingerprint !== r[field].fingerprint)
      throw new GoogleApiError(
        412,
        "Supplied fingerprint does not match current resource fingerprint.",
        "FAILED_PRECONDITION",
      );
    r[field] = { ...body, fingerprint: fingerprint() };
  }

  private setScheduling(rel: string, body: Obj) {
    const vm = this.get(rel);
    // provisioningModel and preemptible cannot change on an existing VM.
    for (const k of ["provisioningModel", "preemptible"]) {
      if (body[k] !== undefined && body[k] !== vm.scheduling[k])
        throw new GoogleApiError(
          400,
          `Invalid value for field 'resource.${k}': it cannot be changed on an existing instance.`,
        );
    }
    vm.scheduling = { ...vm.scheduling, ...body };
  }

  private whileStopped(rel: string, change: (vm: Obj) => void) {
    const vm = this.get(rel);
    if (vm.status !== "TERMINATED")
      throw new GoogleApiError(
        400,
        `The resource '${rel}' is not ready: the instance must be stopped.`,
        "FAILED_PRECONDITION",
      );
    change(vm);
  }

  private saKey(name: string): string {
    // projects/{p}/serviceAccounts/{email or unique id}; `-` as the project means any.
    const m = /^projects\/([^/]+)\/serviceAccounts\/(.+)$/.exec(name);
    if (!m || (m[1] !== "-" && m[1] !== this.project)) throw new GoogleApiError(404, `Unknown service account ${name}`);
    return m[2]!;
  }

  private getServiceAccount(name: string): Obj {
    const key = this.saKey(name);
    const sa = this.serviceAccounts.get(key) ?? [...this.serviceAccounts.values()].find((s) => s.uniqueId === key);
    if (!sa) throw new GoogleApiError(404, `Unknown service account`, "NOT_FOUND");
    return sa;
  }

  private createServiceAccount(parent: string, body: Obj): Obj {
    if (parent !== `projects/${this.project}`) throw new GoogleApiError(404, `The resource '${parent}' was not found`);
    const email = `${body.accountId}@${this.project}.iam.gserviceaccount.com`;
    if (this.serviceAccounts.has(email))
      throw new GoogleApiError(
        409,
        `Service account ${body.accountId} already exists within project projects/${this.project}.`,
      );
    const sa = {
      name: `projects/${this.project}/serviceAccounts/${email}`,
      projectId: this.project,
      uniqueId: String(100000000000000000000n + this.nextId++),
      email,
      displayName: body.serviceAccount?.displayName ?? "",
      description: body.serviceAccount?.description,
      etag: "MDEwMjE5MjA=",
      oauth2ClientId: "1",
    };
    this.serviceAccounts.set(email, sa);
    return sa;
  }

  private checkResource(resource: string) {
    if (resource !== this.project)
      throw new GoogleApiError(403, `The caller does not have permission`, "PERMISSION_DENIED");
  }

  /** setIamPolicy is a read-modify-write guarded by the etag (https://cloud.google.com/iam/docs/policies#etag). */
  private setIamPolicy(resource: string, body: Obj): Obj {
    this.checkResource(resource);
    const next = body.policy ?? {};
    if (next.etag !== this.policy.etag)
      throw new GoogleApiError(
        409,
        "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
        "ABORTED",
      );
    for (const b of next.bindings ?? []) {
      for (const m of b.members ?? []) {
        const sa = /^serviceAccount:(.+)$/.exec(m)?.[1];
        if (sa && sa.endsWith(`@${this.project}.iam.gserviceaccount.com`) && !this.serviceAccounts.has(sa)) {
          throw new GoogleApiError(400, `Service account ${sa} does not exist.`);
        }
      }
    }
    this.policy = { version: next.version ?? 1, bindings: next.bindings ?? [], etag: fingerprint() };
    return structuredClone(this.policy);
  }
}
