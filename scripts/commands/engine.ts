import * as fs from "node:fs";
import * as path from "node:path";
import { openAutomationApplier } from "../../reconciler/apply/automation";
import type { Applier, PreviewSummary } from "../../reconciler/apply/types";
import type { StackConfig } from "../../reconciler/config/load";
import { journalPath, liveSources } from "../../reconciler/context";
import { Journal } from "../../reconciler/journal";
import { areaStates, staleBecause, type CycleDeps } from "../../reconciler/loop";
import type { DesiredFleet } from "../../reconciler/model";
import { planArtifact, renderPlanMarkdown, type Plan } from "../../reconciler/plan";
import { resolveFromRoot } from "../../reconciler/config/load";
import { gatherSignals } from "../../reconciler/signals/gather";

/** Opens the engine (exits 1 with install instructions when the Pulumi CLI is missing). */
export function openApplier(cfg: StackConfig, what: string): Promise<Applier & { recover?: () => Promise<string[]> }> {
  return openAutomationApplier(cfg, what);
}

function liveGather(cfg: StackConfig, journal: Journal, now: () => number) {
  return () => gatherSignals(liveSources(cfg, journal, now), now, (source, err) => process.stderr.write(`fleet: ${source} signal unavailable (${String(err)}); failing closed\n`));
}

/** Approval's re-check: does a reviewed plan still follow from fresh live signals? (loop.staleBecause) */
export function liveStaleCheck(cfg: StackConfig, journal: Journal): (plan: Plan, applied: DesiredFleet) => Promise<string | null> {
  const gather = liveGather(cfg, journal, () => Date.now());
  return async (plan, applied) => staleBecause({ stack: cfg.stack, policy: cfg.policy, applied, states: areaStates(journal, cfg.stack), plan, fresh: await gather() });
}

/** Everything a cycle needs, wired to live sources and the given engine. */
export function cycleDeps(cfg: StackConfig, applier: Applier, journal: Journal): CycleDeps {
  const now = () => Date.now();
  return {
    stack: cfg.stack,
    policy: cfg.policy,
    gather: liveGather(cfg, journal, now),
    applier,
    journal,
    clock: now,
    writeReview: (plan, preview, stackVersion) => writeReview(cfg, plan, preview, stackVersion),
  };
}

export function openJournal(cfg: StackConfig): Journal {
  return Journal.open(journalPath(cfg));
}

/** The review artifact of a reconcile in review mode: plan.json and plan.md in reconcile.reviewDir. */
export function writeReview(cfg: StackConfig, plan: Plan, preview: PreviewSummary, stackVersion: number): string {
  const dir = resolveFromRoot(cfg.root, cfg.policy.reconcile.reviewDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `plan-${cfg.stack}.json`);
  const artifact = planArtifact(plan, preview, stackVersion);
  fs.writeFileSync(file, JSON.stringify(artifact, null, 2) + "\n");
  fs.writeFileSync(file.replace(/\.json$/, ".md"), renderPlanMarkdown(artifact));
  return file;
}
