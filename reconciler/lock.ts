import * as fs from "node:fs";
import * as path from "node:path";
import lockfile from "proper-lockfile";
import { EXIT, FleetError } from "./errors";

/**
 * One process changes a stack at a time on a machine: every command and API route that can change
 * it takes this lock (the reconciler for its whole run, every other path around its `up`).
 * proper-lockfile keeps the lock's mtime fresh while the holder runs; a holder that died stops
 * refreshing it, and after `staleMs` (5 s, proper-lockfile's minimum) the next process takes it over.
 * The lock is re-entrant within a process: the reconciler holds it and its own updates pass.
 */
const held = new Map<string, { count: number; release: () => Promise<void> }>();

export const STALE_MS = 5_000;

export async function lockStack(root: string, stack: string, staleMs = STALE_MS): Promise<() => Promise<void>> {
  const dir = path.join(root, ".fleet", "locks");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, `${stack}.lock`);
  const mine = held.get(file);
  if (mine) {
    mine.count++;
    return once(() => unref(file));
  }
  if (!fs.existsSync(file)) fs.writeFileSync(file, "", { mode: 0o600 });
  try {
    const release = await lockfile.lock(file, { stale: staleMs, update: Math.max(1000, Math.floor(staleMs / 5)), realpath: false });
    held.set(file, { count: 1, release });
    return once(() => unref(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ELOCKED") throw new StackLockedError(stack, file);
    throw e;
  }
}

async function unref(file: string): Promise<void> {
  const h = held.get(file);
  if (!h) return;
  if (--h.count > 0) return;
  held.delete(file);
  await h.release().catch(() => {}); // already compromised or gone: nothing left to release
}

function once(f: () => Promise<void>): () => Promise<void> {
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    await f();
  };
}

/** Runs `f` holding the stack's lock. */
export async function withStackLock<T>(root: string, stack: string, f: () => Promise<T>): Promise<T> {
  const release = await lockStack(root, stack);
  try {
    return await f();
  } finally {
    await release();
  }
}

/** Another fleet process is changing the stack (exit 5, busy): try again when it is done. */
export class StackLockedError extends FleetError {
  override readonly exitCode = EXIT.busy;
  constructor(readonly stackName: string, readonly lockFile: string) {
    super(`stack '${stackName}' is busy: another fleet process on this machine is changing it (lock ${lockFile}.lock; taken over ${STALE_MS / 1000} s after its holder dies). Nothing was changed; try again when it is done.`);
  }
}
