import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { checkTarget, sshArgs, type SshTarget } from "../../reconciler/standby/ssh";

const target: SshTarget = { host: "ssh5.vast.ai", port: 20010, user: "root", keyFile: "/tmp/k", knownHostsFile: "/tmp/kh", trustOnFirstUse: true };
const CONF_DIR = "/etc/ssh/ssh_config.d";
const canWrite = process.getuid?.() === 0 && fs.existsSync(CONF_DIR) && /Include \/etc\/ssh\/ssh_config\.d\/\*\.conf/.test(fs.readFileSync("/etc/ssh/ssh_config", "utf8"));

/** ssh's effective settings (`ssh -G`) for the given arguments, as lowercase key -> value. */
function effective(args: string[]): Map<string, string> {
  const r = spawnSync("ssh", ["-G", ...args], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return new Map(r.stdout.split("\n").filter(Boolean).map((l) => [l.split(" ")[0]!, l.slice(l.indexOf(" ") + 1)]));
}

test("ssh to rented hosts ignores a hostile ssh_config: no agent or X11 forwarding, no proxy, no local command", { skip: canWrite ? false : "needs root and an ssh_config that includes ssh_config.d" }, () => {
  // A `Host *` block as a user's or admin's config might have it (ssh_config.d is read like ~/.ssh/config).
  const file = `${CONF_DIR}/zz-fleet-test-${randomBytes(4).toString("hex")}.conf`;
  fs.writeFileSync(file, "Host *\n  ForwardAgent yes\n  ForwardX11 yes\n  ProxyCommand nc %h %p\n  PermitLocalCommand yes\n  LocalCommand touch /tmp/fleet-pwned\n  LocalForward 5555 127.0.0.1:22\n");
  try {
    const plain = effective(["-p", "20010", "root@ssh5.vast.ai"]);
    assert.equal(plain.get("forwardagent"), "yes", "the hostile config is in force for a plain ssh");
    const fleet = effective(sshArgs(target, 10));
    assert.equal(fleet.get("forwardagent"), "no");
    assert.equal(fleet.get("forwardx11"), "no");
    assert.equal(fleet.get("permitlocalcommand"), "no");
    assert.equal(fleet.get("clearallforwardings"), "yes");
    assert.equal(fleet.get("proxycommand"), undefined);
    assert.equal(fleet.get("localforward"), undefined);
    assert.equal(fleet.get("batchmode"), "yes");
    assert.equal(fleet.get("userknownhostsfile"), "/tmp/kh");
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test("hostile host, port or user from an API never reach ssh's command line", () => {
  for (const host of ["-oProxyCommand=touch /tmp/x", "a;b", "host name", "", "$(id)", "a".repeat(300)]) {
    assert.throws(() => sshArgs({ ...target, host }, 10), /refusing to ssh: host/, host);
  }
  for (const port of [0, 65536, 22.5, Number.NaN]) assert.throws(() => sshArgs({ ...target, port }, 10), /refusing to ssh: port/);
  assert.throws(() => checkTarget({ ...target, user: "root -oProxyCommand=x" }), /refusing to ssh: user/);
  assert.doesNotThrow(() => checkTarget({ ...target, host: "203.0.113.10" }));
  assert.doesNotThrow(() => checkTarget({ ...target, host: "2001:db8::1" }));
});
