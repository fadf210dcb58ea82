import { loadStackConfig, findProjectRoot, resolveFromRoot, type StackConfig } from "./config/load";
import { Journal } from "./journal";
import { JournalBudgetSource, JournalFleetReader } from "./signals/journal-sources";
import { SystemPressureSource } from "./signals/pressure-system";
import { GcpCsvPriceSource } from "./signals/prices-gcp-csv";
import type { LiveSources } from "./signals/gather";
import { FleetWithStandbyReader, offersForRestore, vastFromEnv } from "./standby/sources";
import { CommandQueueSource, FleetWithHpcReader } from "./signals/hpc-sources";

/** Resolves the stack's configuration (validated) from the project root. */
export function stackContext(stack: string, env: NodeJS.ProcessEnv = process.env): StackConfig {
  return loadStackConfig(findProjectRoot(), stack, env);
}

export function journalPath(cfg: StackConfig): string {
  return resolveFromRoot(cfg.root, cfg.policy.journal.path);
}

/** The live sources of the embedded default: this machine's memory, the price file, the journal. */
export function liveSources(cfg: StackConfig, journal: Journal, now: () => number): LiveSources {
  const s = cfg.policy.signals;
  const vast = vastFromEnv();
  const warn = (what: string) => (e: unknown) => process.stderr.write(`fleet: ${what} (${e instanceof Error ? e.message : String(e)})\n`);
  return {
    pressure: new SystemPressureSource({ count: s.pressureSampleCount, intervalMs: s.pressureSampleIntervalMs, historyMs: 3_600_000, journal, now }),
    prices: new GcpCsvPriceSource(resolveFromRoot(cfg.root, s.pricesFile), now),
    budget: new JournalBudgetSource(journal, cfg.stack),
    fleet: new FleetWithStandbyReader(new FleetWithHpcReader(new JournalFleetReader(journal, cfg.stack), cfg.desired.hpc, warn("hpc cluster unreadable")), { standby: cfg.desired.standby, vast, journal, stack: cfg.stack, onError: warn("standby pairs unobserved") }),
    offers: () => offersForRestore(vast, cfg.desired.standby, cfg.policy.standby, warn("Vast offers unavailable")),
    queue: cfg.policy.hpc.queueCommand ? new CommandQueueSource(cfg.policy.hpc.queueCommand, cfg.policy.hpc.queueTimeoutSeconds * 1000) : undefined,
  };
}
