import * as fs from "node:fs";
import JSON5 from "json5";
import { InputError, type Problem } from "../errors";
import { SignalsSchema, type Signals } from "../model";
import { problemsFromZod } from "../config/issues";
import { INPUT_LIMITS, readInputFile } from "../config/input-file";

/**
 * Reads and validates a signals file (`--signals FILE.json`). Strict JSON; a NaN or Infinity (as
 * Python's json.dumps writes them) is reported at its field rather than as a bare syntax error.
 */
/** How far a signals file's time may run ahead of this machine's clock (clock skew), in ms. */
const MAX_FUTURE_MS = 5 * 60_000;

export function readSignalsFile(file: string, nowMs: number = Date.now()): Signals {
  const text = readInputFile(file, { field: "--signals", maxBytes: INPUT_LIMITS.signals, gzip: false });
  const signals = parseSignalsText(text, file);
  if (Date.parse(signals.at) > nowMs + MAX_FUTURE_MS) {
    const problem = { field: `${file}: at`, message: `${signals.at} is in the future (this machine's clock says ${new Date(nowMs).toISOString()}): a plan cannot be made from signals not yet seen` };
    throw new InputError(`signals file ${file}`, [problem]);
  }
  return signals;
}

export function parseSignalsText(text: string, file: string): Signals {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`signals file ${file}`, jsonProblems(text, file, e as Error));
  }
  const parsed = SignalsSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(`signals file ${file}`, problemsFromZod(`${file}: `, parsed.error).map(trimPrefix));
  return parsed.data;
}

function trimPrefix(p: Problem): Problem {
  return { ...p, field: p.field.replace(/: \.?/, ": ") };
}

function jsonProblems(text: string, file: string, err: Error): Problem[] {
  let lenient: unknown;
  try {
    lenient = JSON5.parse(text);
  } catch {
    return [{ field: file, message: `malformed JSON: ${err.message}` }];
  }
  const nonFinite: Problem[] = [];
  walk(lenient, "", (path, v) => {
    if (typeof v === "number" && !Number.isFinite(v)) nonFinite.push({ field: `${file}: ${path}`, message: `${v} is not a number JSON allows; write a finite number` });
  });
  return nonFinite.length ? nonFinite : [{ field: file, message: `malformed JSON (strict JSON required: no comments, trailing commas or single quotes): ${err.message}` }];
}

function walk(v: unknown, path: string, visit: (path: string, v: unknown) => void): void {
  visit(path, v);
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`, visit));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k, visit);
}
