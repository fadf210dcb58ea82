import type { Applier, PreviewSummary, ResourceChange, ResourceProgress, UpSummary } from "../../reconciler/apply/types";
import { EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";

type Method = keyof Applier;

/**
 * A recording Applier: every call is recorded with its argument; `failNext(method, error)` makes the
 * next call of that method throw once. `up` moves appliedDesired forward, as the engine would.
 */
export class RecordingApplier implements Applier {
  calls: { method: Method; arg?: unknown }[] = [];
  applied: DesiredFleet;
  version = 1;
  pending: string[] = [];
  infraDrift: ResourceChange[] = [];
  policyViolations: PreviewSummary["policy"] = [];
  private failures = new Map<Method, Error>();
  /** Resolves `up` only when released (to test SIGTERM during an update). */
  holdUp?: Promise<void>;

  constructor(applied: DesiredFleet = EMPTY_DESIRED) {
    this.applied = applied;
  }

  /** One process, one applier: nothing else can change the stack meanwhile. */
  withLock<T>(f: () => Promise<T>): Promise<T> {
    return f();
  }

  failNext(method: Method, error: Error): this {
    this.failures.set(method, error);
    return this;
  }

  count(method: Method): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  private record(method: Method, arg?: unknown): void {
    this.calls.push({ method, arg });
    const err = this.failures.get(method);
    if (err) {
      this.failures.delete(method);
      throw err;
    }
  }

  async appliedDesired() {
    this.record("appliedDesired");
    return this.applied;
  }
  async stackVersion() {
    this.record("stackVersion");
    return this.version;
  }
  async pendingOperations() {
    this.record("pendingOperations");
    return this.pending;
  }
  async refreshPreview() {
    this.record("refreshPreview");
    return this.infraDrift;
  }
  async preview(desired: DesiredFleet): Promise<PreviewSummary> {
    this.record("preview", desired);
    return { counts: { create: desired.burst.vms.length }, changes: [], policy: this.policyViolations };
  }
  /** Resource steps `up` reports to its progress listener (what the engine would emit). */
  progress: ResourceProgress[] = [];
  async up(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    this.record("up", desired);
    for (const p of this.progress) onProgress?.(p);
    if (this.holdUp) await this.holdUp;
    this.applied = desired;
    this.version++;
    this.infraDrift = [];
    return { counts: { create: desired.burst.vms.length }, changes: [], outputs: {} };
  }
  async cancel() {
    this.record("cancel");
  }
}
