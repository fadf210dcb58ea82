import { PendingOperationsError } from "../../reconciler/apply/types";
import { stackContext } from "../../reconciler/context";
import { EXIT, FleetError, InputError } from "../../reconciler/errors";
import { lockStack } from "../../reconciler/lock";
import { applyPlan, runCycle, type CycleResult } from "../../reconciler/loop";
import { makeLogger } from "../../reconciler/log";
import { ReconcilerMetrics } from "../../reconciler/metrics";
import { manualPlan } from "../../reconciler/plan";
import { assertReachable } from "../../reconciler/apply/reach";
import { requireEngine } from "../../reconciler/engine";
import { applyReviewed, readPlanArtifact, setAreaMode, validateMode } from "../../reconciler/review";
import { Scheduler } from "../../reconciler/schedule";
import { cycleDeps, liveStaleCheck, openApplier, openJournal } from "./engine";

/** Exit code of one cycle's outcome (cron and CI never see 0 on failure). */
export function exitCodeOf(r: CycleResult): number {
  switch (r.outcome) {
    case "blocked":
      return EXIT.blocked;
    case "failed":
      return EXIT.failure;
    default:
      // A scale-up the budget, a limit or a stale signal forbade is "blocked" even when nothing changed.
      return r.plan.blocked > 0 ? EXIT.blocked : EXIT.ok;
  }
}

function describe(r: CycleResult): string {
  const lines = [`cycle: ${r.outcome}`];
  for (const d of r.plan.decisions) lines.push(`  ${d.area.padEnd(7)} ${d.kind.padEnd(8)} ${d.reason}`);
  if (r.configDrift.length) lines.push(`config drift: ${r.configDrift.map((e) => `${e.op} ${e.path}`).join(", ")}`);
  if (r.infraDrift.length) lines.push(`infrastructure drift: ${r.infraDrift.map((c) => `${c.op} ${c.urn}`).join(", ")}`);
  if (r.outcome === "blocked") lines.push(...r.reasons.map((x) => `blocked: ${x}`));
  if (r.outcome === "failed") lines.push(`apply failed: ${r.error}${r.manual.length ? `; circuit breaker put ${r.manual.join(", ")} in manual mode` : ""}`);
  if (r.outcome === "review-written") lines.push(`review artifact: ${r.file}`);
  if (r.outcome === "stale-plan-dropped") lines.push(r.why);
  return lines.join("\n");
}

export async function reconcileCommand(opts: { stack: string; once?: boolean; schedule?: string; dryRun?: boolean; mode?: string; json?: boolean }): Promise<number> {
  if (!!opts.once === !!opts.schedule) throw new InputError("fleet reconcile", [{ field: "--once/--schedule", message: "give exactly one: --once for a single cycle, or --schedule \"<cron>\"" }]);
  if (opts.schedule && !Scheduler.validate(opts.schedule)) throw new InputError("--schedule", [{ field: "--schedule", message: `'${opts.schedule}' is not a cron expression (e.g. "*/5 * * * *")` }]);
  if (opts.mode && !["auto", "review"].includes(opts.mode)) throw new InputError("--mode", [{ field: "--mode", message: `must be auto or review, got '${opts.mode}'` }]);
  const cfg = stackContext(opts.stack);
  const mode = (opts.mode ?? cfg.policy.reconcile.mode) as "auto" | "review";
  const applier = await openApplier(cfg, "fleet reconcile");
  const unlock = await lockStack(cfg.root, cfg.stack);
  const journal = openJournal(cfg);
  const deps = cycleDeps(cfg, applier, journal);
  try {
    if (opts.once) {
      const r = await runCycle(deps, { mode, dryRun: !!opts.dryRun }).catch((e) => {
        if (e instanceof PendingOperationsError) throw new FleetError(e.message);
        throw e;
      });
      process.stdout.write(opts.json ? JSON.stringify(r, null, 2) + "\n" : describe(r) + "\n");
      return exitCodeOf(r);
    }
    const log = makeLogger();
    const metrics = new ReconcilerMetrics();
    const server = cfg.policy.reconcile.metricsPort ? await metrics.serve(cfg.policy.reconcile.metricsPort) : undefined;
    const scheduler = new Scheduler(() => runCycle(deps, { mode, dryRun: !!opts.dryRun }), log, (r) => metrics.observe(r), () => applier.cancel(), (e) => metrics.observeError(e));
    log.info({ event: "start", stack: cfg.stack, schedule: opts.schedule, mode, metrics: server ? `http://127.0.0.1:${server.port}/metrics` : null }, "reconciler started");
    scheduler.start(opts.schedule!);
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        log.info({ event: "signal", signal: sig }, "stopping");
        void scheduler.stop().then(resolve);
      };
      process.on("SIGTERM", () => onSignal("SIGTERM"));
      process.on("SIGINT", () => onSignal("SIGINT"));
    });
    await server?.close();
    return EXIT.ok;
  } finally {
    journal.close();
    await unlock();
  }
}

export async function driftCommand(opts: { stack: string; json?: boolean }): Promise<number> {
  const cfg = stackContext(opts.stack);
  requireEngine("fleet drift");
  await assertReachable(cfg.desired, "fleet drift");
  const applier = await openApplier(cfg, "fleet drift");
  const journal = openJournal(cfg);
  try {
    const r = await runCycle(cycleDeps(cfg, applier, journal), { mode: "review", dryRun: true, driftOnly: true });
    const report = { stack: cfg.stack, inSync: r.outcome === "in-sync", configDrift: r.configDrift, infrastructureDrift: r.infraDrift, decisions: r.plan.decisions };
    process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + "\n" : describe(r) + "\n");
    return report.inSync ? EXIT.ok : EXIT.drift;
  } finally {
    journal.close();
  }
}

/** The parts of a review artifact `fleet apply` relies on. */
export async function applyCommand(opts: { stack: string; plan?: string; applied?: boolean }): Promise<number> {
  if (!!opts.plan === !!opts.applied) throw new InputError("fleet apply", [{ field: "--plan/--applied", message: "give exactly one: --plan plan.json, or --applied to converge the applied desired fleet (CI after a merge)" }]);
  if (opts.applied) return applyAppliedCommand(opts.stack);
  return applyPlanFile(opts.stack, opts.plan!);
}

/** Converges the stack on its applied desired fleet with this revision's code (what `pulumi up` does). */
async function applyAppliedCommand(stack: string): Promise<number> {
  const cfg = stackContext(stack);
  requireEngine("fleet apply --applied");
  await assertReachable(cfg.desired, "fleet apply --applied");
  const applier = await openApplier(cfg, "fleet apply --applied");
  const applied = await applier.appliedDesired();
  const journal = openJournal(cfg);
  try {
    const atIso = new Date().toISOString();
    const plan = manualPlan({ stack: cfg.stack, atIso, previous: applied, desired: applied, dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd, decision: { area: "burst", kind: "noop", reason: "--applied: converge on the applied desired fleet", from: null, to: null } });
    const r = await applyPlan({ stack: cfg.stack, policy: cfg.policy, applier, journal, clock: () => Date.now() }, plan, null, applied);
    process.stdout.write(describe(r) + "\n");
    return exitCodeOf(r);
  } finally {
    journal.close();
  }
}

async function applyPlanFile(stack: string, planPath: string): Promise<number> {
  const cfg = stackContext(stack);
  const plan = readPlanArtifact(planPath, cfg.stack);
  const applier = await openApplier(cfg, "fleet apply");
  const journal = openJournal(cfg);
  try {
    const r = await applyReviewed({ cfg, applier, journal, plan, clock: () => Date.now(), stale: liveStaleCheck(cfg, journal) });
    if ("refused" in r) {
      process.stderr.write(`fleet: refusing to apply ${planPath}: ${r.refused.join("; ")}. Make a new plan. Nothing was changed.\n`);
      return EXIT.blocked;
    }
    process.stdout.write(describe(r.result) + "\n");
    return exitCodeOf(r.result);
  } finally {
    journal.close();
  }
}

export async function modeCommand(opts: { stack: string; mode: string; area: string; reason?: string }): Promise<number> {
  const cfg = stackContext(opts.stack);
  validateMode(opts.area, opts.mode); // before a journal exists
  const journal = openJournal(cfg);
  try {
    const { area, previous } = setAreaMode(journal, cfg.stack, { ...opts, atIso: new Date().toISOString() });
    process.stdout.write(`area ${area} of stack '${cfg.stack}': ${previous} -> ${opts.mode}\n`);
    return EXIT.ok;
  } finally {
    journal.close();
  }
}

export async function recoverCommand(opts: { stack: string; yes?: boolean }): Promise<number> {
  const cfg = stackContext(opts.stack);
  const applier = await openApplier(cfg, "fleet recover");
  const pending = await applier.pendingOperations();
  if (!pending.length) {
    process.stdout.write(`stack '${cfg.stack}': no pending operations, nothing to recover\n`);
    return EXIT.ok;
  }
  process.stdout.write(`stack '${cfg.stack}' has ${pending.length} pending operation(s) from an interrupted update:\n${pending.map((u) => `  ${u}`).join("\n")}\n`);
  if (!opts.yes) {
    process.stdout.write(
      "`fleet recover --yes` undoes what interrupted libvirt creates made (Fleet's creates never adopt, so an object of that name is theirs), " +
        "clears the pending operations and refreshes. A pending create of a cloud resource is cleared from the state: `fleet sweep` finds it if it was made.\n",
    );
    return EXIT.failure;
  }
  await applier.recover!();
  const journal = openJournal(cfg);
  journal.recordEvent({ at: new Date().toISOString(), stack: cfg.stack, kind: "recovered", detail: { pending } });
  journal.close();
  process.stdout.write("cleared pending operations and refreshed the stack\n");
  return EXIT.ok;
}
