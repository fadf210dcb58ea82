import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderShellTemplate, renderTemplate } from "../../stacks/template";
import { removeMountPoints, SandboxHost, sandboxSkipReason } from "../engine/sandbox-host";

/**
 * Issue 19, item 3: the key a GPU uses on its standby opened a root shell there. Now the standby's
 * authorized_keys forces fleet-sync-serve (stacks/templates/standby-sync-serve.sh) with `restrict`.
 * A Vast standby booted from its real onstart in a sandbox host (its own /etc, /root, /data and
 * sshd on a loopback port): the sync and the restore still work with the pair's key, and nothing
 * else does (a shell command, a copy outside /data, options that would let file names or symlinks
 * past the check). In CI (FLEET_REQUIRE_SSHD=1) a host that cannot run here fails, elsewhere skips.
 */
const reason = sandboxSkipReason();
const skip = reason && process.env.FLEET_REQUIRE_SSHD !== "1" ? reason : false;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-serve-"));
const host = new SandboxHost("serve");
let port = 0;
const key = path.join(work, "sync");
const known = path.join(work, "known_hosts");

function keygen(file: string): { priv: string; pub: string } {
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file]);
  assert.equal(r.status, 0, String(r.stderr));
  return { priv: fs.readFileSync(file, "utf8"), pub: fs.readFileSync(`${file}.pub`, "utf8").trim() };
}

const sshOpts = () => [
  "-F",
  "/dev/null",
  "-i",
  key,
  "-p",
  String(port),
  "-o",
  "BatchMode=yes",
  "-o",
  `UserKnownHostsFile=${known}`,
  "-o",
  "StrictHostKeyChecking=yes",
];
const sshCmd = () => ["ssh", ...sshOpts()].join(" ");
const ssh = (...command: string[]) =>
  spawnSync("ssh", [...sshOpts(), "root@127.0.0.1", ...command], { encoding: "utf8" });
const rsync = (...args: string[]) => spawnSync("rsync", ["-e", sshCmd(), ...args], { encoding: "utf8" });

before(async () => {
  if (skip) return;
  const hostKey = keygen(path.join(work, "host"));
  const sync = keygen(key);
  const onstart = renderShellTemplate(
    "vast-standby-onstart.sh",
    {
      PAIR_ID: "serve",
      HOST_PUBLIC_KEY: hostKey.pub,
      SYNC_PUBLIC_KEY: sync.pub,
      SERVE_SCRIPT: renderTemplate("standby-sync-serve.sh", {}),
    },
    ["SERVE_SCRIPT"],
  );
  ({ port } = await host.boot(onstart, { FLEET_HOST_KEY: Buffer.from(hostKey.priv).toString("base64") }));
  fs.writeFileSync(known, `[127.0.0.1]:${port} ${hostKey.pub}\n`);
  fs.mkdirSync(path.join(work, "src", "workspace"), { recursive: true });
  fs.writeFileSync(path.join(work, "src", "workspace", "model.bin"), "weights");
});
after(() => {
  if (skip) return;
  host.remove();
  removeMountPoints();
  fs.rmSync(work, { recursive: true, force: true });
});

test("the sync (into /data) and the restore (out of /data) work through the forced command", { skip }, () => {
  const up = rsync(
    "-a",
    "--delete",
    "--delay-updates",
    "--partial-dir=.fleet-partial",
    "--modify-window=-1",
    path.join(work, "src", "workspace"),
    "root@127.0.0.1:/data/",
  );
  assert.equal(up.status, 0, up.stderr + host.onstartLog());
  assert.equal(fs.readFileSync(host.path("/data/workspace/model.bin"), "utf8"), "weights");
  const out = path.join(work, "restored");
  fs.mkdirSync(out);
  const down = rsync("-a", "--ignore-missing-args", "--modify-window=-1", "root@127.0.0.1:/data/workspace", `${out}/`);
  assert.equal(down.status, 0, down.stderr);
  assert.equal(fs.readFileSync(path.join(out, "workspace", "model.bin"), "utf8"), "weights");
});

test("the pair's key runs nothing but the sync: no shell, no copy outside /data, no unchecked names", { skip }, () => {
  const refused = (r: { status: number | null; stderr: string }, what: RegExp) => {
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, what);
  };
  refused(ssh("id"), /fleet-sync-serve: refused: not an rsync server/);
  refused(ssh(), /refused: not an rsync server/);
  refused(ssh("rsync --server -logDtpre.iLsfxCIvu . /etc/"), /refused: path '\/etc\/' \(only under \/data\)/);
  refused(ssh("rsync --server -logDtpre.iLsfxCIvu . /data/../root/"), /refused: path/);
  refused(ssh("rsync --server -slogDtpre.iLsfxCIvu . /data/"), /refused: option '-slogDtpre\.iLsfxCIvu'/);
  refused(ssh("rsync --server -logDtpre.iLsfxCIvu --rsync-path=sh . /data/"), /refused: option '--rsync-path=sh'/);
  refused(ssh("rsync --server -logDtpre.iLsfxCIvu --partial-dir /root . /data/"), /refused: partial dir '\/root'/);
  refused(ssh("rsync --server -logDtpre.iLsfxCIvu . /data/; id"), /refused/);
  assert.ok(!fs.existsSync(host.path("/root/.ssh/rc")));
});

test("a symlink the GPU copies in cannot lead a later copy out of /data", { skip }, () => {
  const dir = path.join(work, "links");
  fs.mkdirSync(dir);
  fs.symlinkSync("/root", path.join(dir, "escape"));
  const up = rsync("-a", `${dir}/`, "root@127.0.0.1:/data/links/");
  assert.equal(up.status, 0, up.stderr);
  // Stored munged: the link points nowhere on the standby.
  assert.match(fs.readlinkSync(host.path("/data/links/escape")), /^\/rsyncd-munged\//);
  const through = rsync("-a", path.join(work, "src", "workspace"), "root@127.0.0.1:/data/links/escape/");
  assert.notEqual(through.status, 0);
  assert.match(through.stderr, /refused: path '\/data\/links\/escape\/' leads to/);
  assert.ok(!fs.existsSync(host.path("/root/workspace")));
  // The restore gives the link back as the GPU sent it.
  const out = path.join(work, "links-back");
  fs.mkdirSync(out);
  assert.equal(rsync("-a", "root@127.0.0.1:/data/links/", `${out}/`).status, 0);
  assert.equal(fs.readlinkSync(path.join(out, "escape")), "/root");
});
