import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Journal } from "../../reconciler/journal";
import { runCycle } from "../../reconciler/loop";
import { FleetPolicySchema, EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import { gatherSignals } from "../../reconciler/signals/gather";
import { GcpCsvPriceSource } from "../../reconciler/signals/prices-gcp-csv";
import { JournalBudgetSource, JournalFleetReader } from "../../reconciler/signals/journal-sources";
import { SystemPressureSource } from "../../reconciler/signals/pressure-system";
import type { Applier } from "../../reconciler/apply/types";
import { median, type Figure } from "./measure";

/** An engine double with no drift: what the reconciler's own work costs when nothing changes. */
class InSyncApplier implements Applier {
  withLock<T>(f: () => Promise<T>): Promise<T> {
    return f();
  }
  updates = 0;
  async appliedDesired(): Promise<DesiredFleet> {
    return EMPTY_DESIRED;
  }
  async stackVersion() {
    return 1;
  }
  async pendingOperations() {
    return [];
  }
  async refreshPreview() {
    return [];
  }
  async preview(): Promise<never> {
    throw new Error("a no-drift cycle must not preview");
  }
  async up(): Promise<never> {
    this.updates++;
    throw new Error("a no-drift cycle must not update");
  }
  async cancel() {}
}

/**
 * cycle.nodrift.ms: median time of one no-drift cycle with live sources (this machine's memory,
 * the bundled price file, the journal) and an engine double; asserts zero Pulumi updates.
 */
export async function benchCycleNoDrift(): Promise<Figure[]> {
  const root = path.resolve(__dirname, "..", "..");
  const journal = Journal.open(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-")), "j.db"));
  const policy = FleetPolicySchema.parse({ signals: { pressureSampleCount: 1, pressureSampleIntervalMs: 0 } });
  const applier = new InSyncApplier();
  const now = () => Date.now();
  const sources = {
    pressure: new SystemPressureSource({ count: 1, intervalMs: 0, historyMs: 3_600_000, journal, now }),
    prices: new GcpCsvPriceSource(path.join(root, policy.signals.pricesFile), now),
    budget: new JournalBudgetSource(journal, "bench"),
    fleet: new JournalFleetReader(journal, "bench"),
  };
  const times: number[] = [];
  for (let i = 0; i < 25; i++) {
    const t0 = process.hrtime.bigint();
    const r = await runCycle({ stack: "bench", policy, gather: () => gatherSignals(sources, now), applier, journal, clock: now, writeReview: () => "" }, { mode: "auto", dryRun: false });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.outcome !== "in-sync") throw new Error(`expected an in-sync cycle, got ${r.outcome}`);
  }
  journal.close();
  return [
    { name: "cycle.nodrift.ms", value: median(times.slice(5)), unit: "ms" },
    { name: "cycle.nodrift.updates", value: applier.updates, unit: "updates" },
  ];
}
