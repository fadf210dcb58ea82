import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { PolicyViolation, ResourceChange, ResourceProgress } from "./types";

/**
 * Reads the engine's event stream as the engine emits it (checked against the streams its own tests
 * record, ../shared/data/pulumi-engine-events). Pure: feed it events, then ask what the run said.
 *
 * - Preview and update: a resource's step is on its `resourcePreEvent` (create, update, replace, ...).
 * - Refresh: every `resourcePreEvent` says `op: "refresh"`; the result is on the matching
 *   `resOutputsEvent` (`same`, `update`, `delete`). Some engine paths (a refresh run inside an update)
 *   leave `op: "refresh"` there too; then the result is read from the step's old and new state.
 * - A mandatory `policyEvent` fails the run (summary `result: "failed"`) after it is emitted.
 * - Errors are `diagnosticEvent`s with severity `error` (a compile error, a provider's message) and
 *   `resOpFailedEvent`s naming the resource whose step failed.
 */
export interface EngineRun {
  /** Resource steps other than `same`/`read`: for refresh, the drift found. */
  changes: ResourceChange[];
  policy: PolicyViolation[];
  /** Error diagnostics, colour codes removed, prefixed with the resource's name when there is one. */
  errors: string[];
  /** Resources whose step failed. */
  failed: ResourceChange[];
  /** The summary's counts and result, when the engine got as far as a summary. */
  summary?: { result: string; counts: Record<string, number> };
}

type Kind = "preview" | "update" | "refresh";
type Metadata = NonNullable<EngineEvent["resourcePreEvent"]>["metadata"];

const QUIET_OPS = new Set(["same", "read"]);

/** Removes the engine's colour markers, e.g. `<{%reset%}>` and `<{%fg 1%}>`. */
export function stripColors(text: string): string {
  return text.replace(/<\{%[^%]*%\}>/g, "");
}

/** The result of a refresh step, from its outputs event. */
export function refreshResult(m: Metadata): string {
  if (m.op !== "refresh") return m.op;
  if (!m.new) return "delete";
  const before = JSON.stringify(m.old?.outputs ?? {});
  const after = JSON.stringify(m.new.outputs ?? {});
  return before === after ? "same" : "update";
}

export function resourceName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

export class EngineEventReader {
  private readonly run: EngineRun = { changes: [], policy: [], errors: [], failed: [] };

  constructor(
    private readonly kind: Kind,
    private readonly onProgress?: (p: ResourceProgress) => void,
  ) {}

  /** Pass as `onEvent` to the Automation API. */
  readonly onEvent = (event: EngineEvent): void => {
    const pre = event.resourcePreEvent?.metadata;
    // In an update with refresh, the refresh steps come first; their results are not the update's steps.
    if (pre && this.kind !== "refresh" && !QUIET_OPS.has(pre.op) && pre.op !== "refresh") {
      this.change(pre.urn, pre.type, pre.op);
      this.onProgress?.({ urn: pre.urn, type: pre.type, op: pre.op, phase: "started" });
    }
    const done = event.resOutputsEvent?.metadata;
    if (done) {
      const op = done.op === "refresh" || this.kind === "refresh" ? refreshResult(done) : done.op;
      if (this.kind === "refresh" && !QUIET_OPS.has(op)) this.change(done.urn, done.type, op);
      if (!QUIET_OPS.has(op) && done.op !== "refresh") this.onProgress?.({ urn: done.urn, type: done.type, op, phase: "done" });
    }
    const failed = event.resOpFailedEvent?.metadata;
    if (failed) {
      this.run.failed.push({ urn: failed.urn, type: failed.type, op: failed.op });
      this.onProgress?.({ urn: failed.urn, type: failed.type, op: failed.op, phase: "failed" });
    }
    const p = event.policyEvent;
    if (p) {
      const level = p.enforcementLevel === "mandatory" ? "mandatory" : "advisory";
      const v: PolicyViolation = { policy: p.policyName, message: stripColors(p.message).trim(), level };
      if (p.resourceUrn) v.urn = p.resourceUrn;
      this.run.policy.push(v);
    }
    const d = event.diagnosticEvent;
    if (d && d.severity === "error") {
      const text = stripColors(d.message).trim();
      const owner = d.urn && !d.urn.includes("::pulumi:pulumi:Stack::") ? `${resourceName(d.urn)}: ` : "";
      if (text) this.run.errors.push(owner + text);
    }
    const s = event.summaryEvent;
    if (s) this.run.summary = { result: String((s as { result?: string }).result ?? ""), counts: (s.resourceChanges ?? {}) as Record<string, number> };
  };

  private change(urn: string, type: string, op: string): void {
    const i = this.run.changes.findIndex((c) => c.urn === urn);
    if (i >= 0) this.run.changes[i] = { urn, type, op };
    else this.run.changes.push({ urn, type, op });
  }

  result(): EngineRun {
    return this.run;
  }
}

/** Mandatory violations: these fail a preview or an update and block the plan. */
export function mandatoryViolations(run: EngineRun): PolicyViolation[] {
  return run.policy.filter((p) => p.level === "mandatory");
}

/** The cause of a failed run as a person should read it: the errors the engine reported, in order. */
export function failureCause(run: EngineRun, fallback: string): string {
  const lines = [...new Set(run.errors)];
  for (const f of run.failed) {
    const name = resourceName(f.urn);
    if (!lines.some((l) => l.startsWith(`${name}: `))) lines.push(`${name}: ${f.op} failed`);
  }
  return lines.length ? lines.join("\n") : fallback;
}
