import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { forecast, rollingEvaluation, type Point } from "../../reconciler/forecast";
import { awsSeries, parseAwsSpotTsv, parseSeriesCsv } from "../../reconciler/signals/prices-aws-tsv";
import { SHARED_DATA } from "../helpers";

const H = 3_600_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const hourly = (n: number, f: (i: number) => number): Point[] => Array.from({ length: n }, (_, i) => ({ t: T0 + i * H, price: f(i) }));

test("forecast: a flat or stepped price is forecast by its last value", () => {
  const steps = hourly(100, (i) => (i < 50 ? 0.1 : 0.12));
  const f = forecast(steps, T0 + 99 * H, H)!;
  assert.equal(f.method, "naive");
  assert.equal(f.price, 0.12);
});

test("forecast: no look-ahead: points after the clock are not used", () => {
  const s = hourly(10, (i) => (i < 5 ? 0.1 : 0.5));
  assert.equal(forecast(s, T0 + 4 * H, H)!.price, 0.1);
  assert.equal(forecast(s, T0 - H, H), undefined);
});

test("forecast: a daily cycle is learned and beats the last value", () => {
  const daily = new Map([["pool", hourly(24 * 10, (i) => 0.1 + 0.03 * Math.sin((2 * Math.PI * i) / 24))]]);
  const r = rollingEvaluation(daily, H);
  assert.ok(r.mapeModel < r.mapeNaive * 0.5, JSON.stringify(r));
  assert.equal(forecast(daily.get("pool")!, T0 + 200 * H, H)!.method, "daily");
});

test("forecast: reversion after spikes is learned and beats the last value", () => {
  // Every 12 hours the price jumps to 0.3 and halves its excess over 0.1 each hour.
  const spiky = new Map([["pool", hourly(24 * 8, (i) => 0.1 + 0.2 * Math.pow(0.5, i % 12))]]);
  const r = rollingEvaluation(spiky, H);
  assert.ok(r.mapeModel < r.mapeNaive, JSON.stringify(r));
});

test("forecast: volatility is 0 for a flat price and grows with moves", () => {
  assert.equal(forecast(hourly(30, () => 0.1), T0 + 29 * H, H)!.volatility, 0);
  assert.ok(forecast(hourly(30, (i) => (i % 2 ? 0.1 : 0.13)), T0 + 29 * H, H)!.volatility > 0.2);
});

test("forecast-eval on series built from the AWS file: the model is never worse than the last value", () => {
  const file = path.join(SHARED_DATA, "aws-spot-pools-2022-05-31.tsv.gz");
  const rows = parseAwsSpotTsv(zlib.gunzipSync(fs.readFileSync(file)).toString("utf8"), file);
  assert.equal(rows.length, zlib.gunzipSync(fs.readFileSync(file)).toString("utf8").split("\n").filter((l) => l.trim()).length);
  for (const product of ["Linux/UNIX", "Windows", "SUSE Linux"]) {
    for (const horizon of [15 * 60_000, H, 2 * H]) {
      const r = rollingEvaluation(awsSeries(rows, product), horizon);
      assert.ok(r.mapeModel <= r.mapeNaive + 1e-12, `${product} ${horizon}: ${JSON.stringify(r)}`);
    }
  }
});

test("aws file: bad rows are rejected with file and line", () => {
  assert.throws(() => parseAwsSpotTsv("use1-az4\tm5.large\tLinux/UNIX\t0.04\t2022-05-31T18:20:41+00:00\nbogus\tm5.large\tLinux/UNIX\tx\t2022\n", "a.tsv"), /a\.tsv:2 az_id: 'bogus' is not an AZ ID/);
  assert.throws(() => parseAwsSpotTsv("use1-az4\tm5.large\tLinux/UNIX\t-1\t2022-05-31T18:20:41+00:00\n", "a.tsv"), /a\.tsv:1 spot_price_usd_hour/);
  assert.throws(() => parseSeriesCsv("timestamp,pool,price\n2022-01-01T00:00:00Z,p,NaN\n", "s.csv"), /s\.csv:2 price/);
  assert.throws(() => parseSeriesCsv("time,pool,price\n", "s.csv"), /header must be/);
});
