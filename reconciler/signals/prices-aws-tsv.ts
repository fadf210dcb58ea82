import { InputError, type Problem } from "../errors";
import type { Point } from "../forecast";

/**
 * The recorded AWS spot price file (../shared/data/aws-spot-pools-*.tsv.gz): tab-separated, no header,
 * `az_id  instance_type  product_description  spot_price_usd_hour  timestamp`. AZ IDs are global
 * (use1-az4); the region is mapped from the prefix. Every bad row is reported with file and line.
 */

export interface AwsSpotRow {
  azId: string;
  region: string;
  instanceType: string;
  product: string;
  spotHourUsd: number;
  at: string;
}

/** AZ ID prefix -> region name (the prefixes the public AZ ID scheme uses). */
export const AZ_ID_REGIONS: Readonly<Record<string, string>> = {
  use1: "us-east-1", use2: "us-east-2", usw1: "us-west-1", usw2: "us-west-2", cac1: "ca-central-1", sae1: "sa-east-1",
  euw1: "eu-west-1", euw2: "eu-west-2", euw3: "eu-west-3", euc1: "eu-central-1", eun1: "eu-north-1", eus1: "eu-south-1",
  aps1: "ap-south-1", apse1: "ap-southeast-1", apse2: "ap-southeast-2", apne1: "ap-northeast-1", apne2: "ap-northeast-2",
  apne3: "ap-northeast-3", ape1: "ap-east-1", mes1: "me-south-1", afs1: "af-south-1",
};

export function parseAwsSpotTsv(text: string, file: string): AwsSpotRow[] {
  const rows: AwsSpotRow[] = [];
  const problems: Problem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const where = `${file}:${i + 1}`;
    const c = line.split("\t");
    if (c.length !== 5) {
      problems.push({ field: where, message: `has ${c.length} tab-separated columns, expected 5` });
      continue;
    }
    const [azId, instanceType, product, price, at] = c as [string, string, string, string, string];
    const m = azId.match(/^([a-z]+\d+)-az\d+$/);
    const spot = Number(price);
    const region = m ? (AZ_ID_REGIONS[m[1]!] ?? m[1]!) : undefined;
    if (!region) problems.push({ field: `${where} az_id`, message: `'${azId}' is not an AZ ID such as use1-az4` });
    else if (!/^[a-z0-9][a-z0-9.-]*$/.test(instanceType)) problems.push({ field: `${where} instance_type`, message: `'${instanceType}' is not an instance type` });
    else if (!Number.isFinite(spot) || spot < 0 || price.trim() === "") problems.push({ field: `${where} spot_price_usd_hour`, message: `'${price}' is not a non-negative price` });
    else if (Number.isNaN(Date.parse(at))) problems.push({ field: `${where} timestamp`, message: `'${at}' is not a time` });
    else rows.push({ azId, region, instanceType, product, spotHourUsd: spot, at: new Date(Date.parse(at)).toISOString() });
  }
  if (problems.length) throw new InputError(`price file ${file}`, problems.slice(0, 50));
  return rows;
}

/** Price series per pool (AZ ID x type x product), sorted by time: forecast-eval input. */
export function awsSeries(rows: readonly AwsSpotRow[], product = "Linux/UNIX"): Map<string, Point[]> {
  const series = new Map<string, Point[]>();
  for (const r of rows) {
    if (r.product !== product) continue;
    const key = `${r.azId}/${r.instanceType}`;
    (series.get(key) ?? series.set(key, []).get(key)!).push({ t: Date.parse(r.at), price: r.spotHourUsd });
  }
  for (const s of series.values()) s.sort((a, b) => a.t - b.t);
  return series;
}

/** Reads a `timestamp,pool,price` CSV (forecast-eval) into series per pool. */
export function parseSeriesCsv(text: string, file: string): Map<string, Point[]> {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== "timestamp,pool,price") throw new InputError(`series ${file}`, [{ field: `${file}:1`, message: "header must be 'timestamp,pool,price'" }]);
  const series = new Map<string, Point[]>();
  const problems: Problem[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const [ts, pool, price, extra] = line.split(",");
    const t = Date.parse(ts ?? "");
    const p = Number(price);
    if (extra !== undefined || !pool) problems.push({ field: `${file}:${i + 1}`, message: "expected 3 columns: timestamp,pool,price" });
    else if (Number.isNaN(t)) problems.push({ field: `${file}:${i + 1} timestamp`, message: `'${ts}' is not a time` });
    else if (!Number.isFinite(p) || p < 0 || price!.trim() === "") problems.push({ field: `${file}:${i + 1} price`, message: `'${price}' is not a non-negative price` });
    else (series.get(pool) ?? series.set(pool, []).get(pool)!).push({ t, price: p });
  }
  if (problems.length) throw new InputError(`series ${file}`, problems.slice(0, 50));
  for (const s of series.values()) s.sort((a, b) => a.t - b.t);
  return series;
}
