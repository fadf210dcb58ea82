import { backtest } from "../../reconciler/backtest";
import { EXIT, InputError, type Problem } from "../../reconciler/errors";
import { rollingEvaluation } from "../../reconciler/forecast";
import { parseSeriesCsv } from "../../reconciler/signals/prices-aws-tsv";
import { parseGcpWeeklyCsv } from "../../reconciler/signals/prices-gcp-csv";
import { round } from "../../reconciler/decide/time";
import { readTextFile } from "../../reconciler/signals/read-file";

const readText = (file: string, flag: string) => readTextFile(file, flag, `pass an existing file to ${flag}`);

/** "1h", "30m", "2.5h", "90s" -> milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = text.match(/^(\d+(?:\.\d+)?)(s|m|h|d)$/);
  if (!m) return undefined;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
}

export async function forecastEvalCommand(opts: { series: string; horizon: string; json?: boolean }): Promise<number> {
  const horizonMs = parseDuration(opts.horizon);
  if (!horizonMs) throw new InputError("--horizon", [{ field: "--horizon", message: `'${opts.horizon}' is not a duration such as 1h, 30m, 90s` }]);
  const series = parseSeriesCsv(readText(opts.series, "--series"), opts.series);
  const r = rollingEvaluation(series, horizonMs);
  // No point to evaluate is not a perfect forecast (it printed "MAPE 0 %"): it is bad input.
  if (r.points === 0) {
    throw new InputError("--series", [{ field: opts.series, message: `no point has a value ${opts.horizon} after it in the same pool: give a longer series or a shorter --horizon` }]);
  }
  const out = { points: r.points, mapeModel: round(r.mapeModel, 6), mapeNaive: round(r.mapeNaive, 6) };
  process.stdout.write(opts.json ? JSON.stringify(out) + "\n" : `points: ${out.points}\nmapeModel: ${out.mapeModel}%\nmapeNaive: ${out.mapeNaive}%\n`);
  return EXIT.ok;
}

export async function backtestCommand(opts: { prices: string; vcpu: string; ramGb: string; regions?: string; homeRegion: string; switchPenaltyHours: string; gpu?: boolean; json?: boolean }): Promise<number> {
  const problems: Problem[] = [];
  const num = (flag: string, v: string, min: number) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min) problems.push({ field: flag, message: `must be a number >= ${min}, got '${v}'` });
    return n;
  };
  const vcpu = num("--vcpu", opts.vcpu, 1);
  const ramGb = num("--ram-gb", opts.ramGb, 0.5);
  const penalty = num("--switch-penalty-hours", opts.switchPenaltyHours, 0);
  const regions = opts.regions ? opts.regions.split(",").map((r) => r.trim()).filter(Boolean) : [];
  if (problems.length) throw new InputError("fleet backtest", problems);
  if (!/\.csv(\.gz)?$/.test(opts.prices)) {
    throw new InputError("--prices", [{ field: "--prices", message: "backtest replays the GCP weekly CSV format (week_start_utc,machine_type,...); the AWS file has no vCPU/RAM per type and covers only hours" }]);
  }
  const rows = parseGcpWeeklyCsv(readText(opts.prices, "--prices"), opts.prices);
  let result;
  try {
    result = backtest(rows, { vcpu, ramGb, regions, homeRegion: opts.homeRegion, switchPenaltyHours: penalty, gpu: !!opts.gpu });
  } catch (e) {
    throw new InputError("fleet backtest", [{ field: "--prices/--regions/--home-region", message: (e as Error).message }]);
  }
  const { steps: _s, pools: _p, ...printed } = result;
  process.stdout.write(opts.json ? JSON.stringify(printed) + "\n" : Object.entries(result).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n");
  return EXIT.ok;
}
