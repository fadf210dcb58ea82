import * as fs from "node:fs";
import * as path from "node:path";
import { stackContext, journalPath, liveSources } from "../../reconciler/context";
import { findPulumiCli, INSTALL_PULUMI_HINT } from "../../reconciler/engine";
import { EXIT, FleetError, InputError } from "../../reconciler/errors";
import { Journal } from "../../reconciler/journal";
import { buildPlan, emptySignals, manualPlan, planArtifact, renderPlanMarkdown, renderPlanText, type Plan } from "../../reconciler/plan";
import { readSignalsFile } from "../../reconciler/signals/file";
import { gatherSignals } from "../../reconciler/signals/gather";
import { missingSecretsProvider } from "../../reconciler/apply/automation";
import { PolicyBlockedError, type Applier, type PreviewSummary } from "../../reconciler/apply/types";
import type { StackConfig } from "../../reconciler/config/load";
import type { DesiredFleet } from "../../reconciler/model";
import { openApplier } from "./engine";

export interface PlanOptions {
  stack: string;
  signals?: string;
  json?: boolean;
  out?: string;
  markdown?: string;
  /** Plan the applied desired fleet as it is (no decisions): CI previews of a code change. */
  applied?: boolean;
}

/** `fleet plan`: validate everything first, then gather, decide, record, print. */
/** The engine as `fleet plan` sees it: whether the CLI is there, and how to open it (a seam for tests). */
export interface PlanEngine {
  /** Why the preview cannot run here (no CLI, no secrets passphrase), or null. */
  unavailable: () => string | null;
  open: (cfg: StackConfig, what: string) => Promise<Applier>;
}
const LIVE_ENGINE: PlanEngine = {
  unavailable: () => {
    if (!findPulumiCli()) return `the Pulumi CLI is not on PATH (to preview resource changes, ${INSTALL_PULUMI_HINT})`;
    const secrets = missingSecretsProvider();
    return secrets ? `${secrets.field} is not set (to preview resource changes, ${secrets.message})` : null;
  },
  open: openApplier,
};

export async function planCommand(opts: PlanOptions, engineSeam: PlanEngine = LIVE_ENGINE): Promise<number> {
  const cfg = stackContext(opts.stack);
  for (const [flag, file] of [["--out", opts.out], ["--markdown", opts.markdown]] as const) {
    if (file && !fs.existsSync(path.dirname(path.resolve(file)))) {
      throw new InputError(flag, [{ field: flag, message: `directory of ${file} does not exist` }]);
    }
    // Checked before anything is recorded: a directory (or a device) here would fail the write after
    // the plan was journalled.
    if (file && fs.existsSync(file) && !fs.statSync(file).isFile()) {
      throw new InputError(flag, [{ field: flag, message: `${file} is ${fs.statSync(file).isDirectory() ? "a directory" : "not a regular file"}: give a file name, e.g. ${path.join(file, "plan.json")}` }]);
    }
  }
  if (opts.applied && opts.signals) throw new InputError("fleet plan", [{ field: "--applied", message: "--applied plans the applied fleet without signals: drop --signals" }]);
  // A signals file is validated before anything is opened or written.
  const fileSignals = opts.signals ? readSignalsFile(opts.signals) : undefined;

  // The engine, when it is set up, first: the plan starts from the fleet the stack applied (backend).
  const opened = await openForPlan(cfg, engineSeam);
  const applied = opened.applied ?? cfg.desired;
  const journal = Journal.open(journalPath(cfg));
  try {
    const now = () => Date.now();
    const live = fileSignals || opts.applied ? undefined : liveSources(cfg, journal, now);
    const signals =
      fileSignals ??
      (opts.applied ? emptySignals(new Date().toISOString()) : undefined) ??
      (await gatherSignals(live!, now, (source, err) => process.stderr.write(`fleet: ${source} signal unavailable (${String(err)}); failing closed\n`)));
    const pricesFrom = live?.prices.describe?.();
    const source = opts.signals ? `file:${path.basename(opts.signals)}` : "live";
    const plan = opts.applied
      ? manualPlan({ stack: cfg.stack, atIso: signals.at, previous: applied, desired: applied, dailyBudgetUsd: cfg.policy.burst.dailyBudgetUsd, decision: { area: "burst", kind: "noop", reason: "--applied: the applied desired fleet, unchanged, previewed with this revision's code", from: null, to: null } })
      : buildPlan({ stack: cfg.stack, source, signals, policy: cfg.policy, previous: applied });

    if (!fileSignals && !opts.applied) journal.recordPressureSamples(signals.pressure.samples);
    journal.recordPlan({ at: plan.at, stack: plan.stack, source, desired: plan.desired, decisions: plan.decisions, costs: plan.costs, signalsDigest: plan.signalsDigest }, new Date().toISOString());

    // With the engine: the Pulumi preview of this plan (under the policy pack) and the stack's version,
    // so `fleet apply --plan` can refuse a plan the stack has moved past. A preview the policy pack
    // blocks exits 4 with each violation; any other engine failure exits 1 with the engine's cause.
    const engine = await previewWithEngine(plan, opened);
    const artifact = planArtifact(plan, engine.preview, engine.stackVersion, engine.error ?? null);

    if (opts.out) fs.writeFileSync(opts.out, JSON.stringify(artifact, null, 2) + "\n");
    if (opts.markdown) fs.writeFileSync(opts.markdown, renderPlanMarkdown(artifact));
    if (opts.json) process.stdout.write(JSON.stringify({ ...jsonView(plan), ...(pricesFrom ? { pricesFrom } : {}) }, null, 2) + "\n");
    else process.stdout.write(renderPlanText(plan) + (pricesFrom ? `\nPrices: ${pricesFrom}` : "") + "\n\n" + engine.note + "\n");
    if (opts.json) process.stderr.write(engine.note + "\n");
    if (engine.exitCode !== EXIT.ok) return engine.exitCode;
    return plan.blocked > 0 ? EXIT.blocked : EXIT.ok;
  } finally {
    journal.close();
  }
}

interface EnginePreview {
  preview: PreviewSummary | null;
  stackVersion: number | null;
  /** Why there is no preview, when the engine was there and failed. */
  error?: string;
  note: string;
  exitCode: number;
}

interface OpenedEngine {
  applier?: Applier;
  applied?: DesiredFleet;
  /** Why there is no preview: the engine is not set up here (exit 0), or it failed to open (its exit). */
  skipped?: string;
  failure?: FleetError;
}

async function openForPlan(cfg: StackConfig, seam: PlanEngine): Promise<OpenedEngine> {
  const unavailable = seam.unavailable();
  if (unavailable) return { skipped: unavailable };
  try {
    const applier = await seam.open(cfg, "the preview of fleet plan");
    return { applier, applied: await applier.appliedDesired() };
  } catch (e) {
    if (e instanceof FleetError) return { failure: e };
    throw e;
  }
}

async function previewWithEngine(plan: Plan, opened: OpenedEngine): Promise<EnginePreview> {
  if (opened.skipped) return { preview: null, stackVersion: null, note: `preview: skipped, ${opened.skipped}`, exitCode: EXIT.ok };
  try {
    if (opened.failure) throw opened.failure;
    const applier = opened.applier!;
    const preview = await applier.preview(plan.desired);
    const counts = Object.entries(preview.counts).map(([k, v]) => `${v} ${k}`).join(", ") || "no changes";
    const advisories = preview.policy.map((p) => `${p.policy} (${p.level}): ${p.message}`).join("; ");
    const note = `preview: ${counts}${advisories ? `; policy: ${advisories}` : ""}`;
    return { preview, stackVersion: await applier.stackVersion(), note, exitCode: EXIT.ok };
  } catch (e) {
    if (e instanceof PolicyBlockedError) {
      const preview = { counts: e.run.summary?.counts ?? {}, changes: e.run.changes, policy: e.run.policy };
      return { preview, stackVersion: null, error: e.message, note: `preview: ${e.message}`, exitCode: EXIT.blocked };
    }
    if (e instanceof FleetError) return { preview: null, stackVersion: null, error: e.message, note: `preview: ${e.message}`, exitCode: e.exitCode };
    throw e;
  }
}

function jsonView(plan: Plan) {
  const { desired, decisions, costs, signals, ...rest } = plan;
  return { desired, decisions, costs, signals, stack: rest.stack, at: rest.at, source: rest.source, changes: rest.changes, blocked: rest.blocked, pressure: rest.pressure, desiredDiff: rest.desiredDiff, signalsDigest: rest.signalsDigest };
}
