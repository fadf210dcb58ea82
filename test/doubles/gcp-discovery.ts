// Google's own API definitions as a double's contract: the discovery documents in
// ../shared/data/gcp-discovery (compute.v1, iam.v1, cloudresourcemanager.v1, ...), as Google serves
// them at https://<api>.googleapis.com/$discovery/rest. A request is routed to the method whose
// httpMethod and path template match, and its query parameters and body are checked against the
// method's parameters and request schema the way the service checks them: unknown fields, wrong types,
// values outside an enum, a path parameter off its pattern, a field the schema marks required for the
// method (`annotations.required`) or whose description starts "Required." are refused with the
// service's 400 shape. Names the description ties to RFC 1035 (with a length range) are checked too.
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "../helpers";

export const DISCOVERY_DIR = path.join(REPO, "..", "shared", "data", "gcp-discovery");

interface Param {
  type?: string;
  location?: string;
  required?: boolean;
  pattern?: string;
  enum?: string[];
  format?: string;
  repeated?: boolean;
}
export interface Schema {
  id?: string;
  type?: string;
  $ref?: string;
  format?: string;
  enum?: string[];
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  description?: string;
  annotations?: { required?: string[] };
}
export interface Method {
  id: string;
  httpMethod: string;
  path: string;
  flatPath?: string;
  parameters?: Record<string, Param>;
  request?: { $ref: string };
  response?: { $ref: string };
}
interface Doc {
  name: string;
  servicePath: string;
  schemas: Record<string, Schema>;
  resources?: Record<string, { methods?: Record<string, Method>; resources?: Doc["resources"] }>;
}

/** A 400/404/409 the way Google's APIs answer it (google.rpc.Status in an `error` envelope). */
export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status = code === 404 ? "NOT_FOUND" : code === 409 ? "ALREADY_EXISTS" : "INVALID_ARGUMENT",
  ) {
    super(message);
  }
  body() {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: this.status,
        errors: [
          {
            message: this.message,
            domain: "global",
            reason: this.code === 404 ? "notFound" : this.code === 409 ? "alreadyExists" : "invalid",
          },
        ],
      },
    };
  }
}

export interface Routed {
  method: Method;
  /** Path and query parameters by name (path ones decoded). */
  params: Record<string, string>;
}

export class DiscoveryApi {
  readonly doc: Doc;
  private readonly routes: { method: Method; re: RegExp; names: string[] }[] = [];

  constructor(name: string) {
    this.doc = JSON.parse(fs.readFileSync(path.join(DISCOVERY_DIR, `${name}.json`), "utf8"));
    const walk = (res: Doc["resources"]) => {
      for (const r of Object.values(res ?? {})) {
        for (const m of Object.values(r.methods ?? {})) this.routes.push(compile(m));
        walk(r.resources);
      }
    };
    walk(this.doc.resources);
  }

  /** The method for `verb path` (path relative to the service root, without servicePath), or a 404. */
  route(verb: string, urlPath: string, query: URLSearchParams): Routed {
    const rel = urlPath.replace(/^\//, "");
    if (!rel.startsWith(this.doc.servicePath)) throw new GoogleApiError(404, `Not found: ${urlPath}`);
    const p = rel.slice(this.doc.servicePath.length);
    let refusal: GoogleApiError | undefined;
    for (const r of this.routes) {
      if (r.method.httpMethod !== verb) continue;
      const m = r.re.exec(p);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1]!)));
      // Several methods share a template (`v1/{+name}`): the parameter patterns tell them apart.
      const off = offPattern(r.method, params);
      if (off) {
        refusal ??= off;
        continue;
      }
      this.checkQuery(r.method, query);
      for (const [k, v] of query) if (!(k in params)) params[k] = v;
      return { method: r.method, params };
    }
    throw (
      refusal ??
      new GoogleApiError(
        404,
        `The requested URL ${urlPath} was not found on this server (no ${verb} method of ${this.doc.name}).`,
      )
    );
  }

  private checkQuery(method: Method, query: URLSearchParams) {
    const defs = method.parameters ?? {};
    for (const [name, v] of query) {
      if (["alt", "fields", "prettyPrint", "key", "quotaUser", "$.xgafv"].includes(name)) continue;
      const def = defs[name];
      if (!def || def.location !== "query")
        throw new GoogleApiError(
          400,
          `Invalid JSON payload received. Unknown name "${name}": Cannot bind query parameter.`,
        );
      if (def.enum && !def.enum.includes(v))
        throw new GoogleApiError(400, `Invalid value at '${name}' (${def.type}), "${v}"`);
    }
    for (const [name, def] of Object.entries(defs)) {
      if (def.required && def.location === "query" && !query.has(name))
        throw new GoogleApiError(400, `Required parameter '${name}' is missing.`);
    }
  }

  /** Checks `body` against the method's request schema; throws the service's 400 on the first fault. */
  checkBody(method: Method, body: unknown): void {
    if (!method.request) {
      if (body !== undefined && body !== null && Object.keys(body as object).length)
        throw new GoogleApiError(400, `Method ${method.id} takes no request body.`);
      return;
    }
    if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body))
      throw new GoogleApiError(
        400,
        `Invalid JSON payload received: ${method.id} needs a ${method.request.$ref} object.`,
      );
    this.checkValue({ $ref: method.request.$ref }, body, "resource", method.id);
  }

  schema(ref: string): Schema {
    const s = this.doc.schemas[ref];
    if (!s) throw new Error(`discovery document ${this.doc.name} has no schema ${ref}`);
    return s;
  }

  private checkValue(s: Schema, v: unknown, at: string, methodId: string): void {
    if (s.$ref) s = this.schema(s.$ref);
    const bad = (why: string) =>
      new GoogleApiError(400, `Invalid value for field '${at}': ${JSON.stringify(v)}. ${why}`);
    switch (s.type) {
      case "string": {
        const intLike = s.format === "int64" || s.format === "uint64";
        if (typeof v !== "string" && !(intLike && Number.isInteger(v))) throw bad("Expected a string.");
        if (intLike && !/^-?\d+$/.test(String(v))) throw bad("Expected an integer.");
        if (s.enum && !s.enum.includes(v as string)) throw bad(`Must be one of ${s.enum.join(", ")}.`);
        if (typeof v === "string") checkDescribedName(s.description, v, bad);
        return;
      }
      case "integer":
        if (!Number.isInteger(typeof v === "string" ? Number(v) : v)) throw bad("Expected an integer.");
        if (s.format === "int32" && Math.abs(Number(v)) > 2 ** 31) throw bad("Out of int32 range.");
        return;
      case "number":
        if (typeof v !== "number" || !Number.isFinite(v)) throw bad("Expected a number.");
        return;
      case "boolean":
        if (typeof v !== "boolean") throw bad("Expected a boolean.");
        return;
      case "array":
        if (!Array.isArray(v)) throw bad("Expected a list.");
        v.forEach((x, i) => this.checkValue(s.items ?? {}, x, `${at}[${i}]`, methodId));
        return;
      case "object": {
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad("Expected an object.");
        const o = v as Record<string, unknown>;
        if (s.additionalProperties) {
          for (const [k, x] of Object.entries(o)) this.checkValue(s.additionalProperties, x, `${at}.${k}`, methodId);
          return;
        }
        const props = s.properties ?? {};
        for (const [k, x] of Object.entries(o)) {
          const p = props[k];
          if (!p)
            throw new GoogleApiError(
              400,
              `Invalid JSON payload received. Unknown name "${k}" at '${at}': Cannot find field.`,
            );
          if (x === null) continue;
          this.checkValue(p, x, `${at}.${k}`, methodId);
        }
        for (const [k, p] of Object.entries(props)) {
          const required = p.annotations?.required?.includes(methodId) || /^Required\./.test(p.description ?? "");
          if (required && (o[k] === undefined || o[k] === ""))
            throw new GoogleApiError(400, `Required field '${at}.${k}' not specified`);
        }
        return;
      }
      default:
        return; // `any`: google.protobuf.Value and friends
    }
  }
}

/** The first path parameter off the pattern its definition gives, as the service's 400. */
function offPattern(method: Method, pathParams: Record<string, string>): GoogleApiError | undefined {
  for (const [name, v] of Object.entries(pathParams)) {
    const pattern = method.parameters?.[name]?.pattern;
    if (pattern && !new RegExp(`^(?:${pattern})$`).test(v)) {
      return new GoogleApiError(400, `Invalid value for field '${name}': '${v}'. Must match the pattern '${pattern}'.`);
    }
  }
  return undefined;
}

/**
 * Names whose description states RFC 1035 and a length ("1-63 characters long", "6-30 characters
 * long") are checked with the expression the description gives, `[a-z]([-a-z0-9]*[a-z0-9])?`.
 */
function checkDescribedName(description: string | undefined, v: string, bad: (why: string) => Error) {
  if (!description || !/RFC\s?1035/.test(description)) return;
  const len = /(\d+)-(\d+) characters/.exec(description);
  if (!len) return;
  const [min, max] = [Number(len[1]), Number(len[2])];
  if (v.length < min || v.length > max || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
    throw bad(
      `Must be ${min}-${max} characters long and match the regular expression [a-z]([-a-z0-9]*[a-z0-9])? (RFC 1035).`,
    );
  }
}

/** A method's path as a regular expression: `{name}` is one segment, `{+name}` may span several. */
function compile(method: Method) {
  const names: string[] = [];
  const re = method.path
    .replace(/[.*?^$()|[\]\\]/g, "\\$&")
    .replace(/\{(\+?)([A-Za-z0-9_]+)\}/g, (_, plus: string, name: string) => {
      names.push(name);
      return plus ? "(.+?)" : "([^/]+?)";
    });
  return { method, re: new RegExp(`^${re}$`), names };
}
