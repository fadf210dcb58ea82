import * as fs from "node:fs";
import * as path from "node:path";
import lockfile from "proper-lockfile";
import { EXIT, FleetError } from "./errors";

/**
 * One process changes a stack at a time on a machine: every command and API route that can change
 * it takes this lock (the reconciler for its whole run, every other path around its `up`).
 * proper-lockfile keeps the lock's mtime fresh while the holder runs; a holder that died stops
 * refreshing it: a holder whose pid no longer runs is taken over at once, and any lock not refreshed
 * for `staleMs` (5 s, proper-lockfile's minimum) is taken over too (a holder frozen or on a pid reused).
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
  const take = async () => {
    const release = await lockfile.lock(file, { stale: staleMs, update: Math.max(1000, Math.floor(staleMs / 5)), realpath: false });
    // Who holds it: a process that finds the lock taken can tell a live holder from a dead one.
    fs.writeFileSync(holderFile(file), String(process.pid), { mode: 0o600 });
    held.set(file, { count: 1, release });
    return once(() => unref(file));
  };
  try {
    return await take();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ELOCKED") throw e;
    // A holder killed -9 cannot release: when its pid no longer runs, the lock is taken over now
    // rather than after the staleness period.
    const pid = Number(fs.existsSync(holderFile(file)) ? fs.readFileSync(holderFile(file), "utf8").trim() : NaN);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      fs.rmSync(`${file}.lock`, { recursive: true, force: true });
      try {
        return await take();
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code !== "ELOCKED") throw again;
      }
    }
    throw new StackLockedError(stack, file, Number.isInteger(pid) && pid > 0 ? pid : undefined);
  }
}

const holderFile = (file: string) => `${file}.pid`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
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
  constructor(readonly stackName: string, readonly lockFile: string, holder?: number) {
    const who = holder ? `process ${holder}` : "another fleet process on this machine";
    super(`stack '${stackName}' is busy: ${who} is changing it (lock ${lockFile}). Nothing was changed; try again when it is done.`);
  }
}
