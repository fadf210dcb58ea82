import * as fs from "node:fs";
import * as path from "node:path";
import lockfile from "proper-lockfile";

/**
 * One reconciler per stack on a machine. proper-lockfile keeps the lock's mtime fresh while we run;
 * a crashed process stops refreshing it, so after `staleMs` the next reconciler takes it over.
 */
export async function lockStack(root: string, stack: string, staleMs = 30_000): Promise<() => Promise<void>> {
  const dir = path.join(root, ".fleet", "locks");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${stack}.lock`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, "");
  try {
    return await lockfile.lock(file, { stale: staleMs, update: Math.floor(staleMs / 3), realpath: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") throw new StackLockedError(stack, file);
    throw e;
  }
}

export class StackLockedError extends Error {
  constructor(readonly stackName: string, readonly lockFile: string) {
    super(`another fleet reconciler holds stack '${stackName}' on this machine (${lockFile}.lock)`);
  }
}
