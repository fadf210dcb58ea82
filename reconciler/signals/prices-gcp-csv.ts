import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { InputError, type Problem } from "../errors";
import { PriceRecordSchema, type PriceRecord } from "../model";
import type { PriceSource } from "./types";

const HEADER = "week_start_utc,machine_type,region,vcpu,ram_gb,gpu,gpu_count,on_demand_hour,spot_hour";

export interface GcpPriceRow extends PriceRecord {
  gpu: string;
  gpuCount: number;
}

/**
 * Parses the GCP weekly price CSV (the format of ../shared/data/gcp-spot-weekly-*.csv.gz). Every bad
 * row is reported with its file and line; a file with any bad row yields no prices at all.
 */
export function parseGcpWeeklyCsv(text: string, file: string): GcpPriceRow[] {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== HEADER) {
    throw new InputError(`price file ${file}`, [{ field: `${file}:1`, message: `header must be '${HEADER}'` }]);
  }
  const rows: GcpPriceRow[] = [];
  const problems: Problem[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const c = line.split(",");
    const where = `${file}:${i + 1}`;
    if (c.length !== 9) {
      problems.push({ field: where, message: `has ${c.length} columns, expected 9` });
      continue;
    }
    const [week, type, region, vcpu, ram, gpu, gpuCount, onDemand, spot] = c as [string, string, string, string, string, string, string, string, string];
    const num = (s: string) => (s.trim() === "" ? NaN : Number(s));
    const candidate = { provider: "gcp" as const, region, zone: "", machineType: type, vcpu: num(vcpu), ramGb: num(ram), spotHourUsd: num(spot), onDemandHourUsd: num(onDemand), at: week };
    const parsed = PriceRecordSchema.safeParse(candidate);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ field: `${where} ${String(issue.path[0] ?? "")}`, message: issue.message });
      continue;
    }
    rows.push({ ...parsed.data, gpu, gpuCount: gpuCount === "" ? 0 : Number(gpuCount) });
  }
  if (problems.length) throw new InputError(`price file ${file}`, problems.slice(0, 50).concat(problems.length > 50 ? [{ field: file, message: `and ${problems.length - 50} more bad rows` }] : []));
  return rows;
}

export function readPriceFileText(file: string): string {
  if (!fs.existsSync(file)) throw new InputError("price file", [{ field: "signals.pricesFile", message: `${file} does not exist; set signals.pricesFile (or FLEET_SIGNALS_PRICES_FILE) to a GCP weekly price CSV` }]);
  const buf = fs.readFileSync(file);
  return (file.endsWith(".gz") ? zlib.gunzipSync(buf) : buf).toString("utf8");
}

/** The newest snapshot of each (region, machine type) at or before a clock; the rest is history. */
export function latestSnapshot<T extends PriceRecord>(rows: readonly T[], atMs: number): T[] {
  const best = new Map<string, T>();
  for (const r of rows) {
    const t = Date.parse(r.at!);
    if (t > atMs) continue;
    const key = `${r.region}/${r.zone}/${r.machineType}`;
    const prev = best.get(key);
    if (!prev || t > Date.parse(prev.at!)) best.set(key, r);
  }
  return [...best.values()];
}

/**
 * Prices from a GCP weekly CSV file: every row observed at or before the clock and within the
 * history window (the pool forecast reads the history; burst takes each pool's newest row).
 */
export class GcpCsvPriceSource implements PriceSource {
  constructor(private readonly file: string, private readonly atMs: () => number, private readonly historyDays = 60) {}
  async prices(): Promise<PriceRecord[]> {
    const at = this.atMs();
    const rows = parseGcpWeeklyCsv(readPriceFileText(this.file), this.file);
    const newest = Math.max(...latestSnapshot(rows, at).map((r) => Date.parse(r.at!)), -Infinity);
    const from = newest - this.historyDays * 86_400_000;
    return rows.filter((r) => Date.parse(r.at!) <= at && Date.parse(r.at!) >= from).map(({ gpu: _g, gpuCount: _c, ...p }) => p);
  }
}
