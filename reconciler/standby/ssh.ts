import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { isHost } from "../model/hosts";

/**
 * Runs one command on a host over the system's ssh (BatchMode: never a password prompt), with a
 * connect timeout and an overall timeout. The key is a file path (never its content) so nothing
 * secret is on a command line or in a log.
 */
export interface SshTarget {
  host: string;
  port: number;
  user: string;
  keyFile?: string | null;
  /**
   * A known_hosts file to pin host keys: the host must be in it, or with trustOnFirstUse it is added
   * on first contact and pinned from then on. Without a file: ssh's own known_hosts, accept-new.
   */
  knownHostsFile?: string | null;
  trustOnFirstUse?: boolean;
}

/**
 * The ssh target of a Vast GPU host: root, the configured key, and a known_hosts file of its own per
 * Vast instance under .fleet/known_hosts (trusted on first use). Vast hands the same proxy host and
 * port to one instance after another, so a shared known_hosts would either refuse the next instance
 * or, worse, teach the user to clear the warning; one file per instance pins each for its lifetime.
 */
export function gpuHostTarget(root: string, inst: { id: number; sshHost: string; sshPort: number }, keyFile: string | null): SshTarget {
  const dir = path.join(root, ".fleet", "known_hosts");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return { host: inst.sshHost, port: inst.sshPort, user: "root", keyFile, knownHostsFile: path.join(dir, `vast-${inst.id}`), trustOnFirstUse: true };
}

/**
 * ssh to rented hosts (Vast) runs with a closed configuration: `-F /dev/null` reads neither the
 * user's nor the system's ssh_config, and forwarding, proxies and local commands are off explicitly,
 * so a host's operator never reaches the user's agent, X display or ports while Fleet is connected.
 */
const CLOSED_CONFIG = [
  "-F", "/dev/null",
  "-o", "ForwardAgent=no",
  "-o", "ForwardX11=no",
  "-o", "ClearAllForwardings=yes",
  "-o", "ProxyCommand=none",
  "-o", "ProxyJump=none",
  "-o", "PermitLocalCommand=no",
  "-o", "Tunnel=no",
];


/** A target's host, port and user as ssh may take them (they come from Vast's API): else an error. */
export function checkTarget(t: SshTarget): void {
  const bad: string[] = [];
  if (!isHost(t.host)) bad.push(`host ${JSON.stringify(t.host)} is not a hostname or address`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) bad.push(`port ${JSON.stringify(t.port)} is not 1-65535`);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(t.user)) bad.push(`user ${JSON.stringify(t.user)} is not a user name`);
  if (bad.length) throw new Error(`refusing to ssh: ${bad.join("; ")}`);
}

export function sshArgs(t: SshTarget, connectTimeoutS: number): string[] {
  checkTarget(t);
  return [
    ...CLOSED_CONFIG,
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${connectTimeoutS}`,
    "-o", `StrictHostKeyChecking=${t.knownHostsFile && !t.trustOnFirstUse ? "yes" : "accept-new"}`,
    ...(t.knownHostsFile ? ["-o", `UserKnownHostsFile=${t.knownHostsFile}`] : []),
    ...(t.keyFile ? ["-i", t.keyFile, "-o", "IdentitiesOnly=yes"] : []),
    "-p", String(t.port),
    `${t.user}@${t.host}`,
  ];
}

export function sshRun(t: SshTarget, command: string, opts: { timeoutMs: number; input?: string }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile("ssh", [...sshArgs(t, Math.max(1, Math.ceil(Math.min(opts.timeoutMs, 10_000) / 1000))), command], { timeout: opts.timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? Number((err as { code: number }).code) : 255) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The last successful copy the GPU's sync recorded (its stamp file), or null when unreadable. */
export async function readSyncStamp(t: SshTarget, stampFile = "/var/run/fleet-sync.last", timeoutMs = 8_000): Promise<string | null> {
  const r = await sshRun(t, `cat ${stampFile}`, { timeoutMs });
  const text = r.stdout.trim();
  return r.code === 0 && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(text) ? text : null;
}

/**
 * Waits until the host answers ssh (`true` succeeds), trying every `intervalMs` until `timeoutMs`.
 * Returns the attempts made; throws with the last ssh error when the time is up.
 */
export async function waitForSsh(t: SshTarget, opts: { timeoutMs: number; intervalMs: number; onAttempt?: (n: number, lastError: string) => void; sleep?: (ms: number) => Promise<void>; now?: () => number }): Promise<number> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const deadline = now() + opts.timeoutMs;
  let last = "";
  for (let n = 1; ; n++) {
    const left = deadline - now();
    const r = await sshRun(t, "true", { timeoutMs: Math.max(1000, Math.min(15_000, left)) });
    if (r.code === 0) return n;
    last = r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`;
    opts.onAttempt?.(n, last);
    if (now() + opts.intervalMs >= deadline) throw new Error(`ssh ${t.user}@${t.host}:${t.port} did not answer within ${Math.round(opts.timeoutMs / 1000)} s (${n} attempts; last: ${last})`);
    await sleep(opts.intervalMs);
  }
}
