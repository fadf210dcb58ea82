import * as fs from "node:fs";
import * as path from "node:path";
import { DesiredFleetSchema, type DesiredFleet } from "../model";

/**
 * The applied desired fleet has one home: the stack's output `fleetDesired` in the Pulumi backend,
 * written by every successful update (the program exports the fleet it declared). The workstation's
 * reconciler, CI's `fleet apply --applied` and a plain `pulumi up` all read it from there (the
 * program through a reference to its own stack), so they converge on one fleet. `fleet:desired` in
 * Pulumi.<stack>.yaml is only the first update's input.
 *
 * For reads that do not open the engine (status, a plan without the CLI, the API's views), the last
 * value the engine returned is mirrored in .fleet/applied/<stack>.json; the mirror is refreshed each
 * time the engine is opened and after each update, and is never the source of an update.
 */
export const DESIRED_OUTPUT = "fleetDesired";

export function appliedMirrorPath(root: string, stack: string): string {
  return path.join(root, ".fleet", "applied", `${stack}.json`);
}

export function readAppliedMirror(root: string, stack: string): DesiredFleet | undefined {
  try {
    const parsed = DesiredFleetSchema.safeParse(JSON.parse(fs.readFileSync(appliedMirrorPath(root, stack), "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function writeAppliedMirror(root: string, stack: string, desired: DesiredFleet): void {
  const file = appliedMirrorPath(root, stack);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(desired) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}
