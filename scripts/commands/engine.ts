import * as fs from "node:fs";
import * as path from "node:path";
import { openAutomationApplier } from "../../reconciler/apply/automation";
import type { Applier, PreviewSummary } from "../../reconciler/apply/types";
import type { StackConfig } from "../../reconciler/config/load";
import { journalPath, liveSources } from "../../reconciler/context";
import { Journal } from "../../reconciler/journal";
import type { CycleDeps } from "../../reconciler/loop";
import { renderPlanMarkdown, type Plan } from "../../reconciler/plan";
import { resolveFromRoot } from "../../reconciler/config/load";
import { gatherSignals } from "../../reconciler/signals/gather";

/** Opens the engine (exits 1 with install instructions when the Pulumi CLI is missing). */
export function openApplier(cfg: StackConfig, what: string): Promise<Applier & { recover?: () => Promise<string[]> }> {
  return openAutomationApplier(cfg, what);
}

/** Everything a cycle needs, wired to live sources and the given engine. */
export function cycleDeps(cfg: StackConfig, applier: Applier, journal: Journal): CycleDeps {
  const now = () => Date.now();
  return {
    stack: cfg.stack,
    policy: cfg.policy,
    gather: () => gatherSignals(liveSources(cfg, journal, now), now, (source, err) => process.stderr.write(`fleet: ${source} signal unavailable (${String(err)}); failing closed\n`)),
    applier,
    journal,
    clock: now,
    writeReview: (plan, preview) => writeReview(cfg, plan, preview),
  };
}

export function openJournal(cfg: StackConfig): Journal {
  return Journal.open(journalPath(cfg));
}

/** The review artifact of a reconcile in review mode: plan.json and plan.md in reconcile.reviewDir. */
export function writeReview(cfg: StackConfig, plan: Plan, preview: PreviewSummary): string {
  const dir = resolveFromRoot(cfg.root, cfg.policy.reconcile.reviewDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `plan-${cfg.stack}.json`);
  const artifact = { ...plan, preview };
  fs.writeFileSync(file, JSON.stringify(artifact, null, 2) + "\n");
  fs.writeFileSync(file.replace(/\.json$/, ".md"), renderPlanMarkdown(artifact));
  return file;
}
