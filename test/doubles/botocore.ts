// AWS's own service definitions as a double's contract: botocore's data/<service>/<version>/
// service-2.json.gz (installed with moto from PyPI, pinned in .ci/run), the documents every AWS SDK
// is generated from. A double that answers an operation reads its request the way the service's
// protocol serializes it (EC2 query: botocore/serialize.py EC2QuerySerializer; JSON 1.1:
// JSONSerializer), refuses what the definition does not allow (unknown parameters, values outside
// an enum, numbers outside min/max, a missing required member, a malformed timestamp) and writes its
// answer in the output shape's wire names (EC2: botocore/parsers.py EC2QueryParser reads
// `<locationName>` elements, lists as `<item>`s).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface Member {
  shape: string;
  locationName?: string;
  queryName?: string;
}
export interface Shape {
  type: string;
  members?: Record<string, Member>;
  member?: Member;
  required?: string[];
  enum?: string[];
  min?: number;
  max?: number;
}
export interface ServiceModel {
  metadata: { protocol: string; apiVersion: string; targetPrefix?: string; xmlNamespace?: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, Shape>;
}

/** An error the service answers: its code (the wire `Code`/`__type`) and message. */
export class AwsModelError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let dataDir: string | undefined;
/** botocore's data directory (the Python that runs moto_server has it). */
export function botocoreDataDir(): string {
  if (dataDir) return dataDir;
  const py = "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))";
  const r = spawnSync("python3", ["-c", py], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`botocore is not importable (pip install 'moto[server]'): ${r.stderr}`);
  return (dataDir = r.stdout.trim());
}

const models = new Map<string, ServiceModel>();
/** The newest API version botocore holds for a service (ec2: 2016-11-15, pricing: 2017-10-15). */
export function serviceModel(service: string): ServiceModel {
  const cached = models.get(service);
  if (cached) return cached;
  const dir = path.join(botocoreDataDir(), service);
  const version = fs
    .readdirSync(dir)
    .filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))
    .sort()
    .at(-1);
  if (!version) throw new Error(`botocore has no API version of ${service} in ${dir}`);
  const file = path.join(dir, version, "service-2.json.gz");
  const model = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8")) as ServiceModel;
  models.set(service, model);
  return model;
}

function shapeOf(model: ServiceModel, name: string): Shape {
  const s = model.shapes[name];
  if (!s) throw new Error(`botocore model has no shape ${name}`);
  return s;
}

/** One scalar from its wire text, as the shape types it; an error names the parameter. */
function scalar(model: ServiceModel, shapeName: string, raw: string, where: string): unknown {
  const s = shapeOf(model, shapeName);
  const bad = (why: string) =>
    new AwsModelError("InvalidParameterValue", `Value (${raw}) for parameter ${where} is invalid. ${why}`);
  switch (s.type) {
    case "string":
      if (s.enum && !s.enum.includes(raw)) throw bad(`Expected one of the ${s.enum.length} values of ${shapeName}.`);
      if (s.min !== undefined && raw.length < s.min) throw bad(`Shorter than ${s.min}.`);
      if (s.max !== undefined && raw.length > s.max) throw bad(`Longer than ${s.max}.`);
      return raw;
    case "integer":
    case "long": {
      if (!/^-?\d+$/.test(raw)) throw bad("Expected an integer.");
      const n = Number(raw);
      if ((s.min !== undefined && n < s.min) || (s.max !== undefined && n > s.max))
        throw bad(`Out of range [${s.min}, ${s.max}].`);
      return n;
    }
    case "boolean":
      if (raw !== "true" && raw !== "false") throw bad("Expected true or false.");
      return raw === "true";
    case "timestamp": {
      // The SDKs send ISO 8601 (botocore: timestampFormat iso8601 for the query protocols).
      const t = Date.parse(raw);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(t)) throw bad("Expected an ISO 8601 time.");
      return new Date(t);
    }
    default:
      return raw;
  }
}

/** EC2 query wire name of a member: queryName, else locationName capitalized, else its name. */
function ec2Name(name: string, m: Member): string {
  if (m.queryName) return m.queryName;
  if (m.locationName) return m.locationName[0]!.toUpperCase() + m.locationName.slice(1);
  return name;
}

/**
 * An EC2 query request's parameters read as the operation's input structure. Lists are flattened
 * (`InstanceType.1`, `Filter.1.Value.1`), as EC2QuerySerializer writes them. A parameter the input
 * shape has no place for is refused as EC2 refuses it (UnknownParameter).
 */
export function readEc2Query(model: ServiceModel, operation: string, params: URLSearchParams): Record<string, unknown> {
  const op = model.operations[operation];
  if (!op) throw new AwsModelError("InvalidAction", `The action ${operation} is not valid for this web service.`);
  const used = new Set(["Action", "Version"]);
  const keys = [...params.keys()];
  const read = (shapeName: string, key: string): unknown => {
    const s = shapeOf(model, shapeName);
    if (s.type === "structure") {
      const out: Record<string, unknown> = {};
      for (const [name, m] of Object.entries(s.members ?? {})) {
        const v = read(m.shape, key ? `${key}.${ec2Name(name, m)}` : ec2Name(name, m));
        if (v !== undefined) out[name] = v;
      }
      return Object.keys(out).length || !key ? out : undefined;
    }
    if (s.type === "list") {
      const items: unknown[] = [];
      for (let i = 1; keys.some((k) => k === `${key}.${i}` || k.startsWith(`${key}.${i}.`)); i++)
        items.push(read(s.member!.shape, `${key}.${i}`));
      return items.length ? items : undefined;
    }
    if (!params.has(key)) return undefined;
    used.add(key);
    return scalar(model, shapeName, params.get(key)!, key);
  };
  const input = op.input ? (read(op.input.shape, "") as Record<string, unknown>) : {};
  const unknown = keys.filter((k) => !used.has(k));
  if (unknown.length) throw new AwsModelError("UnknownParameter", `The parameter ${unknown[0]} is not recognized`);
  return input;
}

const xmlEscape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A value written in an EC2 output shape's wire form: `<locationName>` elements, lists as `<item>`s. */
export function ec2Xml(model: ServiceModel, shapeName: string, value: unknown): string {
  const s = shapeOf(model, shapeName);
  if (value === undefined || value === null) return "";
  if (s.type === "structure") {
    const v = value as Record<string, unknown>;
    const known = new Set(Object.keys(s.members ?? {}));
    const stray = Object.keys(v).filter((k) => !known.has(k));
    if (stray.length) throw new Error(`${shapeName} has no member ${stray.join(", ")}`);
    return Object.entries(s.members ?? {})
      .filter(([name]) => v[name] !== undefined)
      .map(([name, m]) => {
        const tag = m.locationName ?? name;
        return `<${tag}>${ec2Xml(model, m.shape, v[name])}</${tag}>`;
      })
      .join("");
  }
  if (s.type === "list") {
    const tag = s.member!.locationName ?? "item";
    return (value as unknown[]).map((x) => `<${tag}>${ec2Xml(model, s.member!.shape, x)}</${tag}>`).join("");
  }
  if (s.type === "timestamp") return (value as Date).toISOString();
  // Output enums are open: the service answers values newer than the SDK's list (botocore and the
  // SDKs pass them through), and the recorded data holds some ("Red Hat Enterprise Linux").
  return xmlEscape(String(value));
}

/** A whole EC2 query response document for an operation. */
export function ec2Response(
  model: ServiceModel,
  operation: string,
  value: Record<string, unknown>,
  requestId: string,
): string {
  const out = model.operations[operation]!.output!.shape;
  const ns = model.metadata.xmlNamespace ?? "";
  const body = ec2Xml(model, out, value);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${ns}/"><requestId>${requestId}</requestId>${body}</${operation}Response>`;
}

/**
 * A JSON-protocol request body checked against the operation's input shape: required members,
 * types, enums, list and string lengths, number ranges. Unknown members are not refused: the
 * definitions do not say the service refuses them, so the double does not either.
 */
export function checkJsonInput(model: ServiceModel, operation: string, body: unknown, errorCode: string): void {
  const op = model.operations[operation];
  if (!op?.input) throw new AwsModelError("UnknownOperationException", `${operation}`);
  const fail = (where: string, why: string): never => {
    throw new AwsModelError(errorCode, `${where || "request"}: ${why}`);
  };
  const check = (shapeName: string, v: unknown, where: string): void => {
    const s = shapeOf(model, shapeName);
    const range = (n: number, what: string) => {
      if (s.min !== undefined && n < s.min) fail(where, `${what} ${n} is below the minimum ${s.min}`);
      if (s.max !== undefined && n > s.max) fail(where, `${what} ${n} is above the maximum ${s.max}`);
    };
    switch (s.type) {
      case "structure": {
        if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(where, "expected an object");
        const o = v as Record<string, unknown>;
        for (const r of s.required ?? [])
          if (o[r] === undefined || o[r] === null) fail(where ? `${where}.${r}` : r, "is required");
        for (const [name, m] of Object.entries(s.members ?? {})) {
          if (o[name] !== undefined && o[name] !== null) check(m.shape, o[name], where ? `${where}.${name}` : name);
        }
        return;
      }
      case "list":
        if (!Array.isArray(v)) return fail(where, "expected a list");
        range(v.length, "length");
        v.forEach((x, i) => check(s.member!.shape, x, `${where}[${i}]`));
        return;
      case "string":
        if (typeof v !== "string") return fail(where, "expected a string");
        if (s.enum && !s.enum.includes(v)) fail(where, `'${v}' is not one of ${s.enum.join(", ")}`);
        range(v.length, "length");
        return;
      case "integer":
      case "long":
        if (typeof v !== "number" || !Number.isInteger(v)) return fail(where, "expected an integer");
        range(v, "value");
        return;
      case "boolean":
        if (typeof v !== "boolean") fail(where, "expected a boolean");
        return;
      default:
        return;
    }
  };
  check(op.input.shape, body, "");
}
