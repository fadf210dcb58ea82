import { stackContext, journalPath } from "../../reconciler/context";
import { costReport, spendToday } from "../../reconciler/report";
import { EXIT, InputError } from "../../reconciler/errors";
import { Journal } from "../../reconciler/journal";

/** `fleet status`: what the journal knows; never creates a journal. */
export async function statusCommand(opts: { stack: string; json?: boolean }): Promise<number> {
  const cfg = stackContext(opts.stack);
  const journal = Journal.openExisting(journalPath(cfg));
  const nowMs = Date.now();
  const today = journal ? spendToday(cfg, journal, nowMs) : null;
  const status = journal
    ? {
        stack: cfg.stack,
        journal: journal.file,
        journalBytes: journal.sizeBytes(),
        retentionDays: cfg.policy.journal.retentionDays,
        lastPlan: journal.lastPlan(cfg.stack) ?? null,
        lastDecisions: journal.decisions(cfg.stack, { limit: 10 }),
        running: journal.openLifetimes(cfg.stack),
        spentTodayUsd: today!.burstUsd,
        spendToday: today,
        dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd,
        appliedDesired: cfg.desired,
      }
    : { stack: cfg.stack, journal: null, lastPlan: null, lastDecisions: [], running: [], spentTodayUsd: 0, dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd, appliedDesired: cfg.desired };
  journal?.close();
  if (opts.json) {
    process.stdout.write(JSON.stringify(status, null, 2) + "\n");
    return EXIT.ok;
  }
  const size = "journalBytes" in status && status.journalBytes !== undefined ? ` (${(status.journalBytes / 1024).toFixed(0)} KiB, kept ${status.retentionDays} days)` : "";
  const lines = [`stack '${status.stack}'  journal: ${status.journal ?? "none yet (run fleet plan)"}${size}`];
  lines.push(`applied desired fleet: burst ${cfg.desired.burst.vms.length} VMs; pool ${cfg.desired.pool ? "set" : "not managed"}; standby ${cfg.desired.standby ? "set" : "not managed"}; hpc ${cfg.desired.hpc ? "set" : "not managed"}`);
  lines.push(`running (journal): ${status.running.length ? status.running.map((r) => `${r.area}/${r.name} ${r.machineType} ${r.zone} since ${r.startedAt}`).join("; ") : "nothing"}`);
  lines.push(`spent today (burst, against the daily budget): $${status.spentTodayUsd.toFixed(2)} of $${status.dailyBudgetUsd.toFixed(2)}`);
  if (status.lastPlan) {
    lines.push(`last plan: #${status.lastPlan.id} at ${status.lastPlan.at} (${status.lastPlan.source})`);
    for (const d of status.lastDecisions.filter((x) => x.planId === status.lastPlan!.id)) lines.push(`  ${d.area} ${d.kind}: ${d.reason}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT.ok;
}

/** `fleet costs`: spend per UTC day and area from the journal's VM lifetimes. */
export async function costsCommand(opts: { stack: string; json?: boolean; days: string }): Promise<number> {
  const days = Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new InputError("--days", [{ field: "--days", message: `must be a whole number from 1 to 366, got '${opts.days}'` }]);
  const cfg = stackContext(opts.stack);
  const journal = Journal.openExisting(journalPath(cfg));
  const report = costReport(cfg, journal ?? null, Date.now(), days);
  journal?.close();
  const perDay = report.days;
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return EXIT.ok;
  }
  const lines = [`spend per UTC day, stack '${cfg.stack}' (burst budget $${report.dailyBudgetUsd.toFixed(2)}/day)`];
  for (const d of perDay) {
    const areas = Object.entries(d.byArea).map(([a, v]) => `${a} $${v!.toFixed(2)}`).join(", ");
    lines.push(`  ${d.day}  $${d.totalUsd.toFixed(2)}${areas ? `  (${areas})` : ""}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
  return EXIT.ok;
}
