import { z } from "zod";
import type { Problem } from "../errors";

/**
 * FLEET_* environment overrides of policy keys. Each leaf of the policy schema has one variable:
 * the path's segments in UPPER_SNAKE_CASE joined by '_', e.g. burst.dailyBudgetUsd ->
 * FLEET_BURST_DAILY_BUDGET_USD. Arrays are comma-separated; maps are JSON. Variables that start with a policy
 * section's prefix but name no key are reported (a typo must not be silently ignored).
 */

type Leaf = { path: string[]; env: string; kind: "number" | "boolean" | "string" | "array" | "json" };

export function envName(path: string[]): string {
  return "FLEET_" + path.map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { def: { innerType?: z.ZodType } };
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
    s = s.def.innerType as typeof s;
  }
  return s;
}

export function policyLeaves(schema: z.ZodObject, prefix: string[] = []): Leaf[] {
  const leaves: Leaf[] = [];
  for (const [key, child] of Object.entries(schema.shape)) {
    const inner = unwrap(child as z.ZodType);
    if (inner instanceof z.ZodNever) continue; // a removed key: refused with its fix, not configurable
    const path = [...prefix, key];
    if (inner instanceof z.ZodObject) leaves.push(...policyLeaves(inner, path));
    else {
      const kind = inner instanceof z.ZodNumber ? "number" : inner instanceof z.ZodBoolean ? "boolean" : inner instanceof z.ZodArray ? "array" : inner instanceof z.ZodRecord ? "json" : "string";
      leaves.push({ path, env: envName(path), kind });
    }
  }
  return leaves;
}

export interface EnvOverrides {
  /** Values to merge over the file's policy, as a nested object. */
  values: Record<string, unknown>;
  /** policy path (dot form) -> the variable that set it, so errors can name the variable. */
  sources: Map<string, string>;
  problems: Problem[];
}

export function readEnvOverrides(schema: z.ZodObject, env: NodeJS.ProcessEnv): EnvOverrides {
  const leaves = policyLeaves(schema);
  const known = new Set(leaves.map((l) => l.env));
  const sectionPrefixes = Object.entries(schema.shape)
    .filter(([, s]) => unwrap(s as z.ZodType) instanceof z.ZodObject)
    .map(([k]) => envName([k]) + "_");
  const out: EnvOverrides = { values: {}, sources: new Map(), problems: [] };

  for (const name of Object.keys(env).sort()) {
    if (!known.has(name) && sectionPrefixes.some((p) => name.startsWith(p))) {
      out.problems.push({ field: name, message: `is not a known policy variable; see README "Configuration" for the list (e.g. ${leaves[1]?.env})` });
    }
  }
  for (const leaf of leaves) {
    const raw = env[leaf.env];
    if (raw === undefined) continue;
    let value: unknown = raw;
    if (leaf.kind === "number") {
      // Decimal only: Number() would also read "0x10" as 16, "1e3" as 1000 and " 5 " as 5.
      value = /^-?(?:\d+\.?\d*|\.\d+)$/.test(raw) ? Number(raw) : NaN;
      if (Number.isNaN(value)) {
        out.problems.push({ field: leaf.env, message: `must be a decimal number such as 2 or 0.25, got '${raw}'` });
        continue;
      }
    } else if (leaf.kind === "boolean") {
      if (!/^(true|false|1|0)$/i.test(raw)) {
        out.problems.push({ field: leaf.env, message: `must be true or false, got '${raw}'` });
        continue;
      }
      value = /^(true|1)$/i.test(raw);
    } else if (leaf.kind === "json") {
      try {
        value = JSON.parse(raw);
      } catch {
        out.problems.push({ field: leaf.env, message: `must be a JSON object, got '${raw}'` });
        continue;
      }
    } else if (leaf.kind === "array") {
      value = raw.split(",").map((s) => s.trim()).filter(Boolean);
    }
    setPath(out.values, leaf.path, value);
    out.sources.set(leaf.path.join("."), leaf.env);
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    if (typeof node[seg] !== "object" || node[seg] === null) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** Deep merge of plain objects; `over` wins; arrays are replaced, not concatenated. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
