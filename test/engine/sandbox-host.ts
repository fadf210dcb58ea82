// A rented host for the engine tests: this machine's root file system seen through a private mount
// namespace in which /etc (a copy), /root, /usr/local/bin, /var/log, /run, /data and /workspace are
// the host's own scratch directories, and an sshd of its own on a loopback port. What the Vast
// instance's onstart and Fleet's remote commands write (keys, /etc/fleet, the sync script and its
// loop) lands there, never on this machine. Needs root and unshare(1) (util-linux).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** Directories a sandbox replaces, and whether it starts as a copy of this machine's. */
const BINDS: { target: string; copy: boolean }[] = [
  { target: "/etc", copy: true },
  { target: "/root", copy: false },
  { target: "/usr/local/bin", copy: false },
  { target: "/var/log", copy: false },
  { target: "/run", copy: false },
  { target: "/data", copy: false },
  { target: "/workspace", copy: false },
];

/** Mount points this module had to create on this machine (empty directories), removed at the end. */
const madeHere = new Set<string>();

/** Why sandbox hosts cannot run here, or false. */
export function sandboxSkipReason(): string | false {
  if (process.getuid?.() !== 0) return "sandbox hosts need root (mount namespaces)";
  try {
    execFileSync("unshare", ["--mount", "--propagation", "private", "true"], { stdio: "ignore" });
  } catch {
    return "unshare --mount does not work here";
  }
  return false;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export class SandboxHost {
  readonly dir: string;
  port = 0;
  private sshd?: ChildProcess;

  constructor(readonly name: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-host-${name}-`));
  }

  /** A path inside the host (its /workspace, /data, /root...) as seen from this machine. */
  path(inside: string): string {
    const bind = BINDS.find((b) => inside === b.target || inside.startsWith(`${b.target}/`));
    if (!bind) throw new Error(`${inside} is this machine's, not the sandbox's`);
    return path.join(this.dir, bind.target.slice(1).replace(/\//g, "_"), inside.slice(bind.target.length));
  }

  /**
   * Runs `onstart` inside the host as root with the instance's environment (as Vast runs an
   * instance's onstart in its container, `-e` variables set), then its sshd.
   */
  async boot(onstart: string, env: Record<string, string> = {}): Promise<{ host: string; port: number }> {
    for (const b of BINDS) {
      const own = this.path(b.target);
      fs.mkdirSync(own, { recursive: true, mode: 0o755 });
      if (b.copy) execFileSync("cp", ["-a", `${b.target}/.`, own + "/"]);
      if (!fs.existsSync(b.target)) {
        fs.mkdirSync(b.target, { recursive: true });
        madeHere.add(b.target);
      }
    }
    fs.chmodSync(this.path("/root"), 0o700);
    fs.mkdirSync(this.path("/run/sshd"), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(this.dir, "onstart.sh"), onstart, { mode: 0o700 });
    this.port = await freePort();
    const mounts = BINDS.map((b) => `mount --bind ${JSON.stringify(this.path(b.target))} ${b.target}`).join(" && ");
    const sshd = [
      "/usr/sbin/sshd", "-D", "-e", "-f", "/dev/null",
      "-o", `Port=${this.port}`, "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=none",
      "-o", "HostKey=/etc/ssh/ssh_host_ed25519_key", "-o", "PermitRootLogin=prohibit-password",
      "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "UsePAM=no",
      "-o", "StrictModes=no", "-o", "AuthorizedKeysFile=/root/.ssh/authorized_keys",
    ].join(" ");
    // The host's own host key when its onstart installs none (a GPU host: Vast's image has one).
    const ensureKey = "[ -s /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key";
    const script = `set -e; ${mounts}; bash ${JSON.stringify(path.join(this.dir, "onstart.sh"))} > /var/log/onstart.log 2>&1; ${ensureKey}; exec ${sshd}`;
    this.sshd = spawn("unshare", ["--mount", "--propagation", "private", "bash", "-c", script], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...env },
    });
    let err = "";
    this.sshd.stderr!.on("data", (c) => (err += c));
    const until = Date.now() + 20_000;
    while (!(await this.listening())) {
      if (this.sshd.exitCode !== null || Date.now() > until) throw new Error(`sandbox host ${this.name} did not start: ${err}\n${this.onstartLog()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { host: "127.0.0.1", port: this.port };
  }

  onstartLog(): string {
    const f = this.path("/var/log/onstart.log");
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
  }

  private listening(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect(this.port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
  }

  /** The host goes away (an interrupted GPU): its sshd and everything started in it stop. */
  stop(): void {
    if (this.sshd?.pid) {
      // Everything the host ran shares its mount namespace: find those processes by it.
      const ns = fs.readlinkSync(`/proc/${this.sshd.pid}/ns/mnt`, { encoding: "utf8" }) as string;
      for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
          if (fs.readlinkSync(`/proc/${pid}/ns/mnt`) === ns) process.kill(Number(pid), "SIGKILL");
        } catch {
          /* gone meanwhile */
        }
      }
    }
    this.sshd = undefined;
  }

  remove(): void {
    this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Removes the empty mount points this module created on this machine. */
export function removeMountPoints(): void {
  for (const d of madeHere) {
    try {
      fs.rmdirSync(d);
    } catch {
      /* not empty or in use: left */
    }
  }
  madeHere.clear();
}
