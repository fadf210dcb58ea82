import { BlockedError, FleetError } from "../errors";
import type { DesiredFleet } from "../model";
import type { EngineRun } from "./events";

/** One resource step of a preview or update. */
export interface ResourceChange {
  urn: string;
  type: string;
  op: string; // create, update, replace, delete, same, refresh, ...
}

/** One resource step of an update as it happens (progress output). */
export interface ResourceProgress extends ResourceChange {
  phase: "started" | "done" | "failed";
}

export interface PolicyViolation {
  policy: string;
  message: string;
  level: "advisory" | "warning" | "mandatory";
  urn?: string;
}

export interface PreviewSummary {
  counts: Record<string, number>;
  changes: ResourceChange[];
  policy: PolicyViolation[];
}

export interface UpSummary {
  counts: Record<string, number>;
  changes: ResourceChange[];
  outputs: Record<string, unknown>;
}

/**
 * The engine boundary. The real one (automation.ts) is the only module that imports
 * @pulumi/pulumi/automation; tests use a recording double.
 */
export interface Applier {
  /** The desired fleet written in the stack's config (`fleet:desired`). */
  appliedDesired(): Promise<DesiredFleet>;
  /** A number that changes with every update of the stack (detects a stack that moved). */
  stackVersion(): Promise<number>;
  /** URNs left pending by an interrupted update. */
  pendingOperations(): Promise<string[]>;
  /** Infrastructure drift: a refresh in preview mode; resources whose real state differs from the state file. */
  refreshPreview(): Promise<ResourceChange[]>;
  /** Preview a candidate desired fleet (without writing it) under the policy pack. */
  preview(desired: DesiredFleet): Promise<PreviewSummary>;
  /** Write `fleet:desired`, refresh, and update; `onProgress` hears each resource step as it starts and ends. */
  up(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary>;
  /** Ask a running update to stop (SIGTERM/SIGINT). */
  cancel(): Promise<void>;
  /** Runs `f` holding the stack's lock (re-entrant: `up` takes it again inside). */
  withLock<T>(f: () => Promise<T>): Promise<T>;
}

/** Another run holds the stack: skip this tick. */
export class StackBusyError extends Error {}
/** An interrupted update left pending operations: only `fleet recover` clears them. */
export class PendingOperationsError extends FleetError {
  constructor(readonly urns: string[]) {
    super(`the stack has ${urns.length} pending operation(s) from an interrupted update (${urns.slice(0, 3).join(", ")}${urns.length > 3 ? ", ..." : ""}); check those resources, then run \`fleet recover\``);
  }
}

/** The engine failed (exit 1). The message is the cause the engine reported, never a stack trace. */
export class EngineRunError extends FleetError {
  constructor(
    readonly what: string,
    readonly engineCause: string,
    readonly run: EngineRun,
  ) {
    super(`${what} failed in the Pulumi engine:\n${engineCause.split("\n").map((l) => `  ${l}`).join("\n")}`);
  }
}

/** The desired fleet breaks the policy's limits (exit 4): nothing was applied; each limit is listed. */
export class LimitsBrokenError extends BlockedError {
  constructor(readonly violations: { field: string; message: string }[]) {
    super(`refusing to apply: the desired fleet breaks ${violations.length} limit(s) of fleet:policy\n${violations.map((v) => `  - ${v.field}: ${v.message}`).join("\n")}\nNothing was changed.`);
  }
}

/** Mandatory policy violations failed the preview or update (exit 4); each is listed. */
export class PolicyBlockedError extends BlockedError {
  constructor(
    readonly what: string,
    readonly violations: PolicyViolation[],
    readonly run: EngineRun,
  ) {
    super(`${what} was blocked by ${violations.length} mandatory policy violation(s):\n${violations.map((v) => `  - ${v.policy}${v.urn ? ` on ${v.urn.split("::").pop()}` : ""}: ${v.message}`).join("\n")}`);
  }
}
