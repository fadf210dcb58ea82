import { burstReader, stackContext, liveSources } from "../../reconciler/context";
import { GcpBurstReader } from "../../reconciler/signals/burst-gcp";
import { createBurstByHand, terminateBurstByHand } from "../../reconciler/decide/burst-manual";
import { EXIT, InputError } from "../../reconciler/errors";
import { applyByHand } from "../../reconciler/loop";
import type { Decision, DesiredFleet } from "../../reconciler/model";
import type { StackConfig } from "../../reconciler/config/load";
import { openApplier, openJournal } from "./engine";
import { positiveInt } from "./gpu";

/** Plans, journals and applies one by-hand burst change. */
async function applyBurst(cfg: StackConfig, what: string, next: (applied: DesiredFleet) => { desired: DesiredFleet["burst"]; decision: Decision }): Promise<number> {
  const applier = await openApplier(cfg, what);
  const journal = openJournal(cfg);
  try {
    const applied = await applier.appliedDesired();
    const { desired: burst, decision } = next(applied); // checked again on what the engine holds
    process.stdout.write(`${decision.reason}\n`);
    const r = await applyByHand({ stack: cfg.stack, policy: cfg.policy, applier, journal, clock: () => Date.now() }, applied, { ...applied, burst }, decision, (p) => process.stdout.write(`  ${p.phase} ${p.op} ${p.urn.split("::").pop()}\n`));
    process.stdout.write(`${what}: ${r.outcome}${r.outcome === "failed" ? ` (${r.error})` : r.outcome === "stale-plan-dropped" ? ` (${r.why})` : ""}\n`);
    return r.outcome === "applied" ? EXIT.ok : r.outcome === "stale-plan-dropped" ? EXIT.busy : EXIT.failure;
  } finally {
    journal.close();
  }
}

/** `fleet burst create`: checked against prices, budget and limits before the engine is opened, and again on the applied fleet. */
export async function burstCreateCommand(opts: { stack: string; count: string; reason?: string }): Promise<number> {
  const count = positiveInt(opts.count, "--count", "fleet burst create")!;
  const cfg = stackContext(opts.stack);
  const journal = openJournal(cfg);
  let prices, spent: number | null, running: Set<string> | undefined;
  try {
    const sources = liveSources(cfg, journal, Date.now);
    prices = await sources.prices.prices();
    spent = await sources.budget.spentTodayUsd(Date.now()).catch(() => null);
    // What runs now, when GCP can say (credentials set): an applied VM that is gone is not counted
    // or kept. The journal's record is not proof that a VM is gone, so without GCP nothing is dropped.
    const reader = burstReader(cfg, journal);
    if (reader instanceof GcpBurstReader) running = new Set((await reader.actual()).burst?.map((v) => v.name) ?? []);
  } finally {
    journal.close();
  }
  const reason = opts.reason ?? "fleet burst create";
  const check = (previous: DesiredFleet["burst"]) => createBurstByHand({ previous, running, prices, spentTodayUsd: spent, policy: cfg.policy.burst, signalsPolicy: cfg.policy.signals, count, reason, atMs: Date.now() });
  check(cfg.desired.burst);
  return applyBurst(cfg, "fleet burst create", (applied) => check(applied.burst));
}

export async function burstTerminateCommand(opts: { stack: string; name?: string; all?: boolean; reason?: string }): Promise<number> {
  if (!opts.name === !opts.all) throw new InputError("fleet burst terminate", [{ field: "--name", message: "give exactly one of --name N or --all" }]);
  const cfg = stackContext(opts.stack);
  const reason = opts.reason ?? "fleet burst terminate";
  terminateBurstByHand({ previous: cfg.desired.burst, name: opts.name, all: opts.all, reason });
  return applyBurst(cfg, "fleet burst terminate", (applied) => terminateBurstByHand({ previous: applied.burst, name: opts.name, all: opts.all, reason }));
}
