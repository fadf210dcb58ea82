import * as fs from "node:fs";
import * as path from "node:path";
import { withStackLock } from "../../reconciler/lock";
import { RecordingApplier } from "./applier";
import { DesiredFleetSchema, EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import type { ResourceProgress, UpSummary } from "../../reconciler/apply/types";

/**
 * An applier whose applied fleet lives in a file, as the engine's lives in the backend: it survives
 * the process, and an `up` killed midway leaves it either before or after (the backend's stack output
 * is written once, at the end of the update). `up` takes a random few milliseconds, so a kill lands
 * anywhere in a cycle.
 */
export class FileApplier extends RecordingApplier {
  constructor(readonly file: string) {
    super(fs.existsSync(file) ? DesiredFleetSchema.parse(JSON.parse(fs.readFileSync(file, "utf8"))) : EMPTY_DESIRED);
  }
  /** The stack's lock as Fleet takes it (reconciler/lock.ts), in the applied file's directory. */
  override withLock<T>(f: () => Promise<T>): Promise<T> {
    return withStackLock(path.dirname(this.file), "file-applier", f);
  }
  override async appliedDesired(): Promise<DesiredFleet> {
    this.applied = fs.existsSync(this.file) ? DesiredFleetSchema.parse(JSON.parse(fs.readFileSync(this.file, "utf8"))) : EMPTY_DESIRED;
    return this.applied;
  }
  override async up(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    return this.withLock(() => this.lockedUp(desired, onProgress));
  }

  private async lockedUp(desired: DesiredFleet, onProgress?: (p: ResourceProgress) => void): Promise<UpSummary> {
    await new Promise((r) => setTimeout(r, Math.random() * 40));
    const r = await super.up(desired, onProgress);
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(desired));
    fs.renameSync(tmp, this.file);
    await new Promise((res) => setTimeout(res, Math.random() * 20));
    return r;
  }
}
