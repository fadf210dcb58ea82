import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { StackConfig } from "../../reconciler/config/load";
import { Journal } from "../../reconciler/journal";
import { EMPTY_DESIRED } from "../../reconciler/model";
import { setupGpuHost, type GpuDeps } from "../../reconciler/standby/service";
import { readSyncStamp } from "../../reconciler/standby/ssh";
import { VastClient } from "../../reconciler/vast/client";
import { knownHostField } from "../../stacks/standby";
import { renderTemplate } from "../../stacks/template";
import { RecordingApplier } from "../doubles/applier";
import { VastDouble } from "../doubles/vast-api";
import { policy, REPO } from "../helpers";

/**
 * The ssh paths against a real OpenSSH server on 127.0.0.1 (its own port, host key and authorized
 * keys in a temporary directory): GPU boot setup (wait + script), the sync and restore over ssh with
 * the host key pinned for a non-22 port (the Vast standby's case), and the last-sync read.
 * Needs sshd, ssh and rsync, and root (sshd's privilege separation); in CI (FLEET_REQUIRE_SSHD=1) a
 * missing one is a failure, elsewhere a skip.
 */
const SSHD = "/usr/sbin/sshd";
const missing = [
  fs.existsSync(SSHD) ? null : "sshd (openssh-server)",
  spawnSync("ssh", ["-V"]).status === 0 ? null : "ssh (openssh-client)",
  spawnSync("rsync", ["--version"]).status === 0 ? null : "rsync",
  process.getuid?.() === 0 ? null : "root",
].filter((x): x is string => x !== null);
const required = process.env.FLEET_REQUIRE_SSHD === "1";
const skip = missing.length && !required ? `not available: ${missing.join(", ")}` : false;

interface Sshd {
  dir: string;
  port: number;
  clientKey: string;
  hostPub: string;
  proc: ChildProcess;
}
let sshd: Sshd | undefined;

function keygen(file: string): void {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
  assert.equal(r.status, 0, String(r.stderr));
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function listening(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, "127.0.0.1", () => (c.end(), r(true))).on("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An sshd on 127.0.0.1 with its own host key (a new one each start unless `hostKey` is given). */
async function startSshd(dir: string, port: number, clientPub: string): Promise<{ proc: ChildProcess; hostPub: string }> {
  const hostKey = path.join(dir, `host_${Date.now()}`);
  keygen(hostKey);
  fs.writeFileSync(path.join(dir, "authorized_keys"), clientPub, { mode: 0o600 });
  const cfg = path.join(dir, "sshd_config");
  fs.writeFileSync(cfg, [`Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${hostKey}`, `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`, `PidFile ${path.join(dir, "sshd.pid")}`, "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", ""].join("\n"));
  fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const proc = spawn(SSHD, ["-D", "-e", "-f", cfg], { stdio: ["ignore", "ignore", "pipe"] });
  await listening(port, 10_000);
  return { proc, hostPub: fs.readFileSync(`${hostKey}.pub`, "utf8").trim() };
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (proc.exitCode !== null) return r();
    proc.once("exit", () => r());
    proc.kill("SIGTERM");
  });
}

before(async () => {
  if (skip) return;
  assert.deepEqual(missing, [], "FLEET_REQUIRE_SSHD=1: install openssh-server, openssh-client and rsync and run as root");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-sshd-"));
  const clientKey = path.join(dir, "client");
  keygen(clientKey);
  const port = await freePort();
  const { proc, hostPub } = await startSshd(dir, port, fs.readFileSync(`${clientKey}.pub`, "utf8"));
  sshd = { dir, port, clientKey, hostPub, proc };
});

after(async () => {
  if (!sshd) return;
  await stop(sshd.proc);
  fs.rmSync(sshd.dir, { recursive: true, force: true });
});

/** GpuDeps whose Vast double shows one GPU of pair `p1` at the local sshd. */
async function gpuDeps(root: string, setupScript: string): Promise<{ deps: GpuDeps; lines: string[]; done: () => Promise<void> }> {
  const double = new VastDouble([]);
  const baseUrl = await double.start();
  double.instances.push({ id: 9100001, actual_status: "running", label: "fleet-pair-p1", gpu_name: "RTX_4090", dph_total: 0.4, public_ipaddr: "127.0.0.1", ssh_host: "127.0.0.1", ssh_port: sshd!.port, start_date: 1_795_000_000 });
  const journal = Journal.open(path.join(root, "journal.db"));
  const cfg: StackConfig = { root, stack: "test", file: "Pulumi.test.yaml", policy: policy({ standby: { setupScript, sshKeyFile: sshd!.clientKey, sshWaitSeconds: 20 } }), desired: EMPTY_DESIRED };
  const lines: string[] = [];
  const applier = new RecordingApplier();
  const deps: GpuDeps = { cfg, vast: new VastClient({ apiKey: double.apiKey, baseUrl, retries: 0 }), journal: () => journal, applier: async () => applier, now: Date.now, say: (l) => lines.push(l) };
  return { deps, lines, done: async () => (journal.close(), await double.stop()) };
}

test("gpu boot setup over a real sshd: waits, runs the script, shows its output; pins the host key per Vast instance", { skip }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-setup-"));
  const marker = path.join(root, "marker");
  fs.writeFileSync(path.join(root, "setup.sh"), `set -e\necho "ran as $(id -un)" > ${marker}\necho hello-from-setup\n`);
  fs.writeFileSync(path.join(root, "failing.sh"), "echo about-to-fail\nexit 3\n");
  const h = await gpuDeps(root, "setup.sh");
  try {
    await setupGpuHost(h.deps, "p1");
    assert.equal(fs.readFileSync(marker, "utf8"), `ran as ${os.userInfo().username}\n`, "the script ran on the host");
    const text = h.lines.join("\n");
    assert.match(text, /\[setup\] waiting for ssh on 127\.0\.0\.1:\d+ \(up to 20 s\)/);
    assert.match(text, /\[setup\] ssh answered after 1 attempt\(s\); running setup\.sh/);
    assert.match(text, /\[setup\]   hello-from-setup\n\[setup\] done/);
    const known = fs.readFileSync(path.join(root, ".fleet", "known_hosts", "vast-9100001"), "utf8");
    assert.ok(known.includes(sshd!.hostPub.split(" ")[1]!), "the host's key is pinned in the instance's own known_hosts");

    h.deps.cfg.policy.standby.setupScript = "failing.sh";
    await assert.rejects(setupGpuHost(h.deps, "p1"), /setup: failing\.sh exited 3 on pair p1's GPU/);
    assert.match(h.lines.join("\n"), /\[setup\]   about-to-fail/);

    // Same instance, same address, another host key: ssh refuses; the script does not run.
    await stop(sshd!.proc);
    const restarted = await startSshd(sshd!.dir, sshd!.port, fs.readFileSync(`${sshd!.clientKey}.pub`, "utf8"));
    sshd!.proc = restarted.proc;
    sshd!.hostPub = restarted.hostPub;
    fs.rmSync(marker);
    h.deps.cfg.policy.standby.setupScript = "setup.sh";
    h.deps.cfg.policy.standby.sshWaitSeconds = 5;
    await assert.rejects(setupGpuHost(h.deps, "p1"), /did not answer within 5 s[\s\S]*(Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED)/);
    assert.equal(fs.existsSync(marker), false, "a host with a changed key is not trusted");
  } finally {
    await h.done();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** The sync's settings as the install renders them for a standby at the local sshd (paths moved into `dir`). */
function renderedSync(dir: string, hostPub: string): { env: NodeJS.ProcessEnv; knownHosts: string } {
  const install = renderTemplate("gpu-sync-install.sh", {
    PAIR_ID: "p1",
    SYNC_PRIVATE_KEY: "unused",
    KNOWN_HOST: knownHostField("127.0.0.1", sshd!.port),
    HOST_PUBLIC_KEY: hostPub,
    STANDBY_USER: os.userInfo().username,
    STANDBY_HOST: "127.0.0.1",
    STANDBY_PORT: sshd!.port,
    SYNC_PATHS: path.join(dir, "gpu", "work"),
    INTERVAL: 30,
    SYNC_SCRIPT: "",
  });
  const knownLine = /^echo '(.*)' > \/etc\/fleet\/known_hosts$/m.exec(install)![1]!;
  const knownHosts = path.join(dir, "known_hosts");
  fs.writeFileSync(knownHosts, knownLine + "\n");
  const value = (k: string) => /^(\w+)="?(.*?)"?$/m.exec(install.split("\n").find((l) => l.startsWith(`${k}=`))!)![2]!;
  const ssh = value("FLEET_SYNC_SSH").replace("/root/.ssh/fleet-standby", sshd!.clientKey).replace("/etc/fleet/known_hosts", knownHosts);
  // The target's /data becomes a directory of this test.
  const target = value("FLEET_SYNC_TARGET").replace(/:\/data$/, `:${path.join(dir, "standby")}`);
  return { knownHosts, env: { ...process.env, FLEET_SYNC_SSH: `${ssh} -o BatchMode=yes`, FLEET_SYNC_TARGET: target, FLEET_SYNC_PATHS: value("FLEET_SYNC_PATHS"), FLEET_SYNC_STAMP: path.join(dir, "last") } };
}

test("sync over real ssh, standby on a non-22 port (the Vast case): copies with the host key pinned, restores onto an empty host, refuses another key", { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ssh-sync-"));
  const script = path.join(REPO, "stacks", "templates", "standby-sync.sh");
  try {
    const work = path.join(dir, "gpu", "work");
    fs.mkdirSync(work, { recursive: true });
    fs.mkdirSync(path.join(dir, "standby"));
    fs.writeFileSync(path.join(work, "ckpt.bin"), "epoch 7");
    const { env, knownHosts } = renderedSync(dir, sshd!.hostPub);
    assert.match(fs.readFileSync(knownHosts, "utf8"), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd!.port} ssh-ed25519 `));
    const once = spawnSync("bash", [script], { env: { ...env, FLEET_SYNC_ONCE: "1" }, encoding: "utf8" });
    assert.equal(once.status, 0, once.stderr);
    assert.equal(fs.readFileSync(path.join(dir, "standby", "work", "ckpt.bin"), "utf8"), "epoch 7");

    // The last-sync read goes over the same ssh (the stamp the copy wrote).
    const stamp = await readSyncStamp({ host: "127.0.0.1", port: sshd!.port, user: os.userInfo().username, keyFile: sshd!.clientKey, knownHostsFile: knownHosts }, path.join(dir, "last"));
    assert.equal(stamp, fs.readFileSync(path.join(dir, "last"), "utf8").trim());

    // A new, empty GPU host: restore pulls the standby's copy first.
    fs.rmSync(work, { recursive: true });
    const restore = spawnSync("bash", [script], { env: { ...env, FLEET_SYNC_RESTORE: "1" }, encoding: "utf8" });
    assert.equal(restore.status, 0, restore.stderr);
    assert.equal(fs.readFileSync(path.join(work, "ckpt.bin"), "utf8"), "epoch 7");

    // A standby answering with another host key: the copy fails and the standby's copy is untouched.
    const other = path.join(dir, "other");
    keygen(other);
    fs.writeFileSync(knownHosts, `${knownHostField("127.0.0.1", sshd!.port)} ${fs.readFileSync(`${other}.pub`, "utf8").trim()}\n`);
    fs.writeFileSync(path.join(work, "ckpt.bin"), "epoch 8");
    const refused = spawnSync("bash", [script], { env: { ...env, FLEET_SYNC_ONCE: "1" }, encoding: "utf8" });
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    assert.equal(fs.readFileSync(path.join(dir, "standby", "work", "ckpt.bin"), "utf8"), "epoch 7");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
