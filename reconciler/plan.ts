import { vastDphUsd } from "./decide/standby";
import { createHash } from "node:crypto";
import { decide } from "./decide";
import { round } from "./decide/time";
import { canonicalJson, diffJson, type DiffEntry } from "./diff";
import type { z } from "zod";
import type { PreviewSummary } from "./apply/types";
import { changesOf, blockedOf, PlanArtifactSchema, SignalsSchema, type Decision, type DesiredFleet, type FleetPolicy, type PlanArtifact, type PlanSchema, type Signals } from "./model";

/** A plan: what decide wants, why, what it changes and what it costs. Also the review artifact's core. */
export type Plan = z.infer<typeof PlanSchema>;

/** The review artifact of a plan, validated by the schema it is read back with. */
export function planArtifact(plan: Plan, preview: PreviewSummary | null, stackVersion: number | null, previewError: string | null = null): PlanArtifact {
  return PlanArtifactSchema.parse({ ...plan, preview, previewError, stackVersion });
}

export function digest(v: unknown): string {
  return createHash("sha256").update(canonicalJson(v)).digest("hex");
}

/** $/hour of a desired fleet: burst VMs, the pool instance and the pairs' GPUs. */
function hourlyOf(d: DesiredFleet): number {
  return round(d.burst.vms.reduce((a, v) => a + v.spotHourUsd, 0) + (d.pool?.hourUsd ?? 0) + vastDphUsd(d.standby.pairs), 6);
}

/** Builds a plan from validated inputs (pure). */
export function buildPlan(args: { stack: string; source: string; signals: Signals; policy: FleetPolicy; previous: DesiredFleet }): Plan {
  const out = decide({ signals: args.signals, policy: args.policy, previous: args.previous });
  const previousHourlyUsd = hourlyOf(args.previous);
  const p = out.burst.pressure;
  return {
    version: 1,
    stack: args.stack,
    at: args.signals.at,
    source: args.source,
    previous: args.previous,
    desired: out.desired,
    decisions: out.decisions,
    changes: changesOf(out.decisions).length,
    blocked: blockedOf(out.decisions).length,
    desiredDiff: diffJson(args.previous, out.desired),
    costs: {
      hourlyUsd: out.costs.hourlyUsd,
      projectedDailyUsd: out.costs.projectedDailyUsd,
      previousHourlyUsd,
      deltaHourlyUsd: round(out.costs.hourlyUsd - previousHourlyUsd, 6),
      spentTodayUsd: args.signals.budget?.spentTodayUsd ?? null,
      dailyBudgetUsd: args.policy.burst.dailyBudgetUsd,
    },
    pressure: { level: p.fresh ? p.level : "unknown", fresh: p.fresh, memUsedPct: p.latest ? round(p.latest.memUsedPct, 2) : null, swapUsedPct: p.latest ? round(p.latest.swapUsedPct, 2) : null, samples: p.used },
    signals: args.signals,
    signalsDigest: digest(args.signals),
  };
}

const money = (n: number | null, digits = 4) => (n === null ? "unknown" : `$${n.toFixed(digits)}`);

function desiredLines(d: DesiredFleet): string[] {
  const lines = [`burst: ${d.burst.vms.length} VM${d.burst.vms.length === 1 ? "" : "s"}`];
  for (const vm of d.burst.vms) lines.push(`  ${vm.name}  ${vm.machineType}  ${vm.zone}  $${vm.spotHourUsd}/h  expires ${vm.expiresAt}`);
  const p = d.pool;
  lines.push(p ? `pool: ${p.instanceType} in ${p.region}${p.zone ? `/${p.zone}` : ""} (${p.market}, $${p.hourUsd}/h)` : "pool: not managed");
  const pairs = d.standby.pairs;
  lines.push(`standby: ${pairs.length} pair${pairs.length === 1 ? "" : "s"}${pairs.length ? ` (${pairs.map((x) => `${x.pairId} ${x.state}`).join(", ")})` : ""}`);
  const h = d.hpc;
  lines.push(h ? `hpc: cluster ${h.name} on ${h.uri}: 1 controller + ${h.compute.count} compute, ${h.running ? "running" : "shut off"}` : "hpc: not managed");
  return lines;
}

function diffLine(e: DiffEntry): string {
  const sym = e.op === "add" ? "+" : e.op === "remove" ? "-" : "~";
  const val = e.op === "change" ? `${JSON.stringify(e.before)} -> ${JSON.stringify(e.after)}` : "";
  return `${sym} ${e.path} ${val}`.trimEnd();
}

/** Human-readable plan for a terminal. */
export function renderPlanText(plan: Plan): string {
  const out: string[] = [];
  out.push(`fleet plan: stack '${plan.stack}' at ${plan.at} (${plan.source} signals)`);
  out.push(`pressure: ${plan.pressure.level}${plan.pressure.memUsedPct === null ? "" : ` (mem ${plan.pressure.memUsedPct}%, swap ${plan.pressure.swapUsedPct}%, ${plan.pressure.samples} samples)`}`);
  out.push("", "Decisions:");
  for (const d of plan.decisions) out.push(`  ${d.area.padEnd(7)} ${d.kind.padEnd(8)} ${d.reason}`);
  out.push("", "Desired fleet:", ...desiredLines(plan.desired).map((l) => `  ${l}`));
  out.push("", "Changes to the desired fleet:");
  out.push(...(plan.desiredDiff.length ? plan.desiredDiff.map((e) => `  ${diffLine(e)}`) : ["  none: an apply would make no Pulumi update"]));
  const c = plan.costs;
  out.push("", `Costs: ${money(c.hourlyUsd)}/h (was ${money(c.previousHourlyUsd)}/h), projected today ${money(c.projectedDailyUsd, 2)} of ${money(c.dailyBudgetUsd, 2)} budget (spent ${money(c.spentTodayUsd, 2)})`);
  return out.join("\n");
}

/** The plan as Markdown, for review (CI comments, the dashboard). */
export function renderPlanMarkdown(plan: Plan & { preview?: { counts: Record<string, number>; changes: { urn: string; type: string; op: string }[]; policy: { policy: string; level: string; message: string; urn?: string }[] } | null; previewError?: string | null }): string {
  const c = plan.costs;
  const out: string[] = [];
  out.push(`# Fleet plan: stack \`${plan.stack}\``, "", `At ${plan.at}, ${plan.source} signals, pressure **${plan.pressure.level}**. Signals digest \`${plan.signalsDigest.slice(0, 12)}\`.`, "");
  out.push("## Decisions", "", "| area | kind | reason |", "| --- | --- | --- |");
  for (const d of plan.decisions) out.push(`| ${d.area} | ${d.kind} | ${d.reason.replace(/\|/g, "\\|")} |`);
  out.push("", "## Desired-state diff", "");
  out.push(...(plan.desiredDiff.length ? ["```diff", ...plan.desiredDiff.map(diffLine), "```"] : ["No change: an apply makes no Pulumi update."]));
  out.push("", "## Cost", "", "| | USD |", "| --- | --- |");
  out.push(`| hourly now | ${money(c.previousHourlyUsd)} |`, `| hourly after | ${money(c.hourlyUsd)} |`, `| delta per hour | ${money(c.deltaHourlyUsd)} |`);
  out.push(`| spent today | ${money(c.spentTodayUsd, 2)} |`, `| projected today | ${money(c.projectedDailyUsd, 2)} |`, `| daily budget | ${money(c.dailyBudgetUsd, 2)} |`);
  out.push("", "## Pulumi preview", "");
  if (plan.previewError) out.push("**Failed.**", "", "```", plan.previewError, "```", "");
  if (!plan.preview) {
    if (!plan.previewError) out.push("Not run: the Pulumi CLI was not on PATH when this plan was made.");
  }
  else {
    const counts = Object.entries(plan.preview.counts).filter(([k]) => k !== "same");
    out.push(counts.length ? counts.map(([k, v]) => `${v} to ${k}`).join(", ") : "No resource changes.", "");
    if (plan.preview.changes.length) {
      out.push("| op | type | resource |", "| --- | --- | --- |");
      for (const ch of plan.preview.changes) out.push(`| ${ch.op} | ${ch.type} | ${ch.urn.split("::").pop()} |`);
    }
    out.push("", "### Policy", "");
    const onWhat = (urn?: string) => (urn ? ` on \`${urn.split("::").pop()}\`` : "");
    out.push(...(plan.preview.policy.length ? plan.preview.policy.map((p) => `- **${p.policy}** (${p.level})${onWhat(p.urn)}: ${p.message}`) : ["All policies passed."]));
  }
  return out.join("\n") + "\n";
}

/** Signals that observed nothing, at a clock value (plans that are not made from signals). */
export function emptySignals(atIso: string): Signals {
  return SignalsSchema.parse({ at: atIso, pressure: { samples: [] }, prices: [], budget: null });
}

/** A plan for a change asked for by hand (e.g. `fleet hpc stop`): the applied fleet with one area replaced. */
export function manualPlan(args: { stack: string; atIso: string; previous: DesiredFleet; desired: DesiredFleet; decision: Decision; dailyBudgetUsd: number }): Plan {
  const signals = emptySignals(args.atIso);
  const previousHourlyUsd = hourlyOf(args.previous);
  const hourlyUsd = hourlyOf(args.desired);
  return {
    version: 1,
    stack: args.stack,
    at: args.atIso,
    source: "manual",
    previous: args.previous,
    desired: args.desired,
    decisions: [args.decision],
    changes: args.decision.kind === "noop" ? 0 : 1,
    blocked: 0,
    desiredDiff: diffJson(args.previous, args.desired),
    costs: { hourlyUsd, projectedDailyUsd: null, previousHourlyUsd, deltaHourlyUsd: round(hourlyUsd - previousHourlyUsd, 6), spentTodayUsd: null, dailyBudgetUsd: args.dailyBudgetUsd },
    pressure: { level: "unknown", fresh: false, memUsedPct: null, swapUsedPct: null, samples: 0 },
    signals,
    signalsDigest: digest(signals),
  };
}
