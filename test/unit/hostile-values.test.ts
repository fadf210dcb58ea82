import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { renderShellTemplate, renderTemplate } from "../../stacks/template";
import { StandbyPolicySchema } from "../../reconciler/model/standby";
import { VastClient } from "../../reconciler/vast/client";
import { sampleOffers, VastDouble } from "../doubles/vast-api";

/**
 * Values from outside (Vast's answers, config) that reach a shell: refused where they enter, and
 * refused again where a script is rendered, so a hostile `ssh_host` or `syncPaths` never becomes
 * a command on the GPU host (issue 19, item 4).
 */
const HOSTILE = ["x'; touch /tmp/fleet-pwned; '", "$(touch /tmp/fleet-pwned)", "`touch /tmp/fleet-pwned`", "a\ntouch /tmp/fleet-pwned", "a;id", "a|id", "a&id", 'a"b', "a\\b", "a>b"];
const PUB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm1Yx3k7Zf6yq0G7m6ZpHq4fLxCwX9mCk1V2h0E9pQ+ fleet";
const PRIV = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----";

const SERVE = renderTemplate("standby-sync-serve.sh", {});

/** Every shell template with values of the shapes the stacks pass, and which of them are here-documents. */
const TEMPLATES: { name: string; values: Record<string, string | number>; heredocs: string[] }[] = [
  {
    name: "gpu-sync-install.sh",
    values: { PAIR_ID: "p1", SYNC_PRIVATE_KEY: PRIV, KNOWN_HOST: "[ssh5.vast.ai]:20001", HOST_PUBLIC_KEY: PUB, STANDBY_USER: "root", STANDBY_HOST: "ssh5.vast.ai", STANDBY_PORT: 20001, SYNC_PATHS: "/workspace /data/run-1", INTERVAL: 30, SYNC_SCRIPT: renderTemplate("standby-sync.sh", {}) },
    heredocs: ["SYNC_PRIVATE_KEY", "SYNC_SCRIPT"],
  },
  { name: "standby-startup.sh", values: { PAIR_ID: "p1", SYNC_PUBLIC_KEY: PUB, SERVE_SCRIPT: SERVE }, heredocs: ["SERVE_SCRIPT"] },
  { name: "vast-standby-onstart.sh", values: { PAIR_ID: "p1", HOST_PUBLIC_KEY: PUB, SYNC_PUBLIC_KEY: PUB, SERVE_SCRIPT: SERVE }, heredocs: ["SERVE_SCRIPT"] },
  { name: "gpu-onstart.sh", values: { PAIR_ID: "p1", HOST_PUBLIC_KEY: PUB, LOGIN_PUBLIC_KEY: PUB }, heredocs: [] },
  { name: "burst-startup.sh", values: { NAME: "fleet-burst-20261202t0800-1", OWNER: "fleet", EXPIRES_AT: "2026-12-02T11:00:00.000Z", BUSY_LOAD: 0.5 }, heredocs: [] },
];

test("every shell template renders the values the stacks pass, as valid bash", () => {
  for (const t of TEMPLATES) {
    const script = renderShellTemplate(t.name, t.values, t.heredocs);
    const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(r.status, 0, `${t.name}: ${r.stderr}`);
  }
});

test("every shell template refuses a hostile value in every field (nothing is rendered, so nothing runs)", () => {
  let refused = 0;
  for (const t of TEMPLATES) {
    for (const key of Object.keys(t.values)) {
      const bad = t.heredocs.includes(key) ? ["ok\nKEY\ntouch /tmp/fleet-pwned", "x\nSCRIPT\nid"] : HOSTILE;
      for (const v of bad) {
        assert.throws(() => renderShellTemplate(t.name, { ...t.values, [key]: v }, t.heredocs), /refusing to render|could end its here-document/, `${t.name} ${key}=${JSON.stringify(v)}`);
        refused++;
      }
    }
  }
  assert.ok(refused > 100, `${refused} hostile renders refused`);
});

test("standby.syncPaths: only absolute paths of safe characters, no '..'", () => {
  const parse = (syncPaths: string[]) => StandbyPolicySchema.safeParse({ syncPaths });
  assert.equal(parse(["/workspace", "/data/run-1", "/home/u/x@y+z"]).success, true);
  for (const p of ['"; touch /tmp/x; "', "/work space", "/a/../etc", "relative", "/a;b", "/$(id)", "/a\nb"]) {
    const r = parse([p]);
    assert.equal(r.success, false, p);
  }
});

test("a Vast answer whose ssh_host or ssh_port is not one is refused where it enters", async () => {
  for (const bad of [{ ssh_host: "ssh5.vast.ai; touch /tmp/x" }, { ssh_host: "-oProxyCommand=id" }, { ssh_host: "$(id)" }, { ssh_port: 70000 }, { public_ipaddr: "1.2.3.4'" }]) {
    const d = new VastDouble(sampleOffers());
    const baseUrl = await d.start();
    try {
      d.instances.push({ id: 7, actual_status: "running", label: "fleet-p1-gpu", gpu_name: "RTX 4090", dph_total: 0.3, public_ipaddr: "203.0.113.10", ssh_host: "ssh5.vast.ai", ssh_port: 20001, start_date: 1_795_000_000, ...bad });
      const c = new VastClient({ apiKey: "vast-test-key", baseUrl, timeoutMs: 2000, retries: 0, backoffMs: 1 });
      await assert.rejects(c.showInstances(), /malformed instances: instances\[0\.(ssh_host|ssh_port|public_ipaddr)\]/, JSON.stringify(bad));
    } finally {
      await d.stop();
    }
  }
});
