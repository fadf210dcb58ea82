import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { GcpCsvPriceSource, latestSnapshot, parseGcpWeeklyCsv, readPriceFileText } from "../../reconciler/signals/prices-gcp-csv";
import { REPO, SHARED_DATA } from "../helpers";

const HEADER = "week_start_utc,machine_type,region,vcpu,ram_gb,gpu,gpu_count,on_demand_hour,spot_hour";

test("prices: the recorded GCP weekly file parses completely", () => {
  const file = path.join(SHARED_DATA, "gcp-spot-weekly-2023-05_2025-06.csv.gz");
  const rows = parseGcpWeeklyCsv(readPriceFileText(file), file);
  assert.equal(rows.length, 87703);
  assert.equal(new Set(rows.map((r) => r.machineType)).size, 16);
  const a100 = rows.find((r) => r.machineType === "a2-highgpu-1g")!;
  assert.equal(a100.gpu, "a100");
  assert.equal(a100.gpuCount, 1);
});

test("prices: the bundled sample is the file's last 8 snapshots", () => {
  const file = path.join(REPO, "data", "gcp-spot-sample.csv.gz");
  const rows = parseGcpWeeklyCsv(readPriceFileText(file), file);
  assert.equal(new Set(rows.map((r) => r.at)).size, 8);
  const latest = latestSnapshot(rows, Date.parse("2026-01-01T00:00:00Z"));
  const e2 = latest.find((r) => r.machineType === "e2-standard-4" && r.region === "us-west4")!;
  assert.equal(e2.at, "2025-06-26T04:17:16Z");
  assert.equal(e2.spotHourUsd, 0.01376);
});

test("prices: the source returns the history window at or before the clock (no look-ahead)", async () => {
  const file = path.join(REPO, "data", "gcp-spot-sample.csv.gz");
  const prices = await new GcpCsvPriceSource(file, () => Date.parse("2025-06-10T00:00:00Z"), 10).prices();
  const snapshots = [...new Set(prices.map((p) => p.at))].sort();
  assert.deepEqual(snapshots, ["2025-06-01T10:00:59Z", "2025-06-05T04:15:48Z", "2025-06-08T09:50:27Z"]);
});

test("prices: bad rows are rejected with file and line, never used", () => {
  const text = [HEADER, "2025-06-26T04:17:16Z,e2-standard-4,us-west4,4,16,,,0.15,0.01", "2025-06-26T04:17:16Z,e2-standard-4,us-east1,4,16,,,0.15,-1", "2025-06-26T04:17:16Z,e2-standard-4,us-east4,4,16,,,0.15,", "short,row", "2025-06-26T04:17:16Z,e2-standard-4,us-west1,4,16,,,0.15,0"].join("\n");
  assert.throws(() => parseGcpWeeklyCsv(text, "p.csv"), (e: Error) => {
    assert.match(e.message, /p\.csv:3 spotHourUsd: must be a price above \$0 per hour/);
    assert.match(e.message, /p\.csv:4 spotHourUsd/);
    assert.match(e.message, /p\.csv:5: has 2 columns, expected 9/);
    assert.match(e.message, /p\.csv:6 spotHourUsd: must be a price above \$0 per hour: no machine is free/);
    return true;
  });
  assert.throws(() => parseGcpWeeklyCsv("a,b\n", "h.csv"), /h\.csv:1: header must be/);
});

test("prices: a missing price file is bad input naming the setting", () => {
  assert.throws(() => readPriceFileText("/nonexistent/p.csv"), /signals\.pricesFile: \/nonexistent\/p\.csv does not exist/);
  assert.ok(!fs.existsSync("/nonexistent"));
});
