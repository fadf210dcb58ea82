import * as fs from "node:fs";
import { InputError, type Problem } from "../errors";
import { PriceRecordSchema, type PriceRecord } from "../model";
import type { PriceSource } from "./types";
import { readTextFile } from "./read-file";

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
  return readTextFile(file, "signals.pricesFile", "set signals.pricesFile (or FLEET_SIGNALS_PRICES_FILE) to a GCP weekly price CSV");
}

/** Parsed rows per file, reused while the file is unchanged (a cycle gathers twice; a schedule, every tick). */
const parsed = new Map<string, { mtimeMs: number; size: number; rows: GcpPriceRow[] }>();
function rowsOf(file: string): GcpPriceRow[] {
  const st = fs.existsSync(file) ? fs.statSync(file) : undefined;
  const hit = parsed.get(file);
  if (st && hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.rows;
  const rows = parseGcpWeeklyCsv(readPriceFileText(file), file);
  if (st) parsed.set(file, { mtimeMs: st.mtimeMs, size: st.size, rows });
  return rows;
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
/** The machine shapes (vCPU, memory, GPUs) the price file lists: the catalog source prices these. */
export function machineShapes(file: string): { machineType: string; vcpu: number; ramGb: number; gpus: number }[] {
  const shapes = new Map<string, { machineType: string; vcpu: number; ramGb: number; gpus: number }>();
  for (const r of rowsOf(file)) shapes.set(r.machineType, { machineType: r.machineType, vcpu: r.vcpu, ramGb: r.ramGb, gpus: r.gpuCount });
  return [...shapes.values()];
}

export class GcpCsvPriceSource implements PriceSource {
  private newest: number | null = null;
  constructor(private readonly file: string, private readonly atMs: () => number, private readonly historyDays = 60) {}

  describe(): string {
    if (this.newest === null || !Number.isFinite(this.newest)) return `GCP price file ${this.file} (no row at or before now)`;
    const days = (this.atMs() - this.newest) / 86_400_000;
    return `GCP price file ${this.file}, newest row ${new Date(this.newest).toISOString()} (${days.toFixed(1)} days old)`;
  }
  async prices(): Promise<PriceRecord[]> {
    const at = this.atMs();
    const rows = rowsOf(this.file);
    const newest = Math.max(...latestSnapshot(rows, at).map((r) => Date.parse(r.at!)), -Infinity);
    this.newest = newest;
    const from = newest - this.historyDays * 86_400_000;
    return rows.filter((r) => Date.parse(r.at!) <= at && Date.parse(r.at!) >= from).map(({ gpu: _g, gpuCount, ...p }) => (gpuCount > 0 ? { ...p, gpus: gpuCount } : p));
  }
}
