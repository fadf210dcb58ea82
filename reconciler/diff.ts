/**
 * A structural diff of two JSON values. Arrays of objects with a `name` are matched by name, so
 * removing one burst VM shows as that VM removed, not as every later index changed. Pure.
 */
export interface DiffEntry {
  path: string;
  op: "add" | "remove" | "change";
  before?: unknown;
  after?: unknown;
}

export function diffJson(before: unknown, after: unknown, path = ""): DiffEntry[] {
  if (deepEqual(before, after)) return [];
  if (isNamedArray(before) && isNamedArray(after)) {
    const b = new Map(before.map((x) => [x.name, x]));
    const a = new Map(after.map((x) => [x.name, x]));
    const out: DiffEntry[] = [];
    for (const [name, x] of b) if (!a.has(name)) out.push({ path: `${path}[${name}]`, op: "remove", before: x });
    for (const [name, x] of a) {
      if (!b.has(name)) out.push({ path: `${path}[${name}]`, op: "add", after: x });
      else out.push(...diffJson(b.get(name), x, `${path}[${name}]`));
    }
    return out;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: p, op: "add" as const, after: after[k] }];
      if (!(k in after)) return [{ path: p, op: "remove" as const, before: before[k] }];
      return diffJson(before[k], after[k], p);
    });
  }
  return [{ path: path || "(root)", op: "change", before, after }];
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/** JSON with object keys sorted, for digests that do not depend on key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNamedArray(v: unknown): v is ({ name: string } & Record<string, unknown>)[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => isObject(x) && typeof x.name === "string");
}
