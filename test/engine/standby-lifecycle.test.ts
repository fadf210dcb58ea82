import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import { sampleCpuOffers, sampleOffers, VastDouble } from "../doubles/vast-api";
import { cloudStack, type CloudStack } from "./cloud";
import { REPO } from "../helpers";
import { ENGINE_FILE_TIMEOUT_MS, engineSkipReason, stackState, waitFor, type CliResult } from "./harness";
import { removeMountPoints, SandboxHost, sandboxSkipReason } from "./sandbox-host";

/**
 * The standby area (Vast target) end to end on the real engine: the pair's keys from the tls plugin,
 * the GPU and its Vast standby from the Vast double, each running as a sandboxed host that ran the
 * instance's onstart and serves ssh, and the sync installed on the GPU by the command plugin over
 * real ssh. The GPU's work reaches the standby; the GPU is lost (its host gone) and the next
 * reconcile converges without touching it (the sync command goes with the GPU, deletedWith) while
 * the standby and its copy stay; a restore onto a new GPU pulls the copy back; destroy removes both.
 */
const skip = engineSkipReason() || sandboxSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("standby (Vast target) on the real engine, with sandboxed GPU and standby hosts", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  let c: CloudStack;
  let vast: VastDouble;
  const hosts = new Map<number, SandboxHost>();
  const run = (args: string[], expect: number | "any" = 0): Promise<CliResult> => c.run(args, expect);
  const byRole = (role: "gpu" | "standby") => vast.instances.filter((i) => (role === "standby") === /standby/.test(i.label ?? ""));
  const hostOf = (inst: { id: number }) => hosts.get(inst.id)!;
  const types = () => stackState(c.stack, c.env).resources.map((r) => r.type);

  before(async () => {
    if (skip) return;
    c = await cloudStack("standby");
    vast = new VastDouble([...sampleOffers(), ...sampleCpuOffers()]);
    vast.bootListings = 1;
    vast.boot = async (inst) => {
      const h = new SandboxHost(`v${inst.id}`);
      hosts.set(inst.id, h);
      const ep = await h.boot(inst.onstart ?? "", Object.fromEntries(inst.extra_env));
      return { public_ipaddr: "127.0.0.1", ssh_host: ep.host, ssh_port: ep.port };
    };
    c.env.VAST_API_URL = await vast.start();
    c.env.VAST_API_KEY = vast.apiKey;
    c.writeStack({ owner: "fleet", burst: { enabled: false }, standby: { target: "vast", syncPaths: ["/workspace"], syncIntervalSeconds: 5, maxPairs: 1 } });
  });
  after(async () => {
    if (skip) return;
    for (const h of hosts.values()) h.remove();
    removeMountPoints();
    await vast.stop();
    await c.cleanup();
  });

  test("gpu boot rents the GPU and its Vast standby; the sync installed over ssh copies the GPU's work to the standby", async () => {
    await run(["gpu", "boot", "--offer", "101", "--pair", "p1"]);
    const [gpu] = byRole("gpu");
    const [standby] = byRole("standby");
    assert.ok(gpu && standby, JSON.stringify(vast.instances.map((i) => i.label)));
    assert.ok(fs.existsSync(hostOf(gpu).path("/usr/local/bin/fleet-sync")), "the sync script is on the GPU host");
    assert.match(fs.readFileSync(hostOf(gpu).path("/etc/fleet/known_hosts"), "utf8"), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${hostOf(standby).port} ssh-ed25519 `), "the standby's host key is pinned");
    fs.writeFileSync(hostOf(gpu).path("/workspace/model.ckpt"), "epoch 7");
    const copy = hostOf(standby).path("/data/workspace/model.ckpt");
    await waitFor(() => fs.existsSync(copy) && fs.readFileSync(copy, "utf8") === "epoch 7", 60_000, "the GPU's work on the standby");
    // The sync key, the standby's and the GPU's host keys (made here, delivered in each instance's
    // environment by Vast's API), and the install.
    assert.deepEqual(types().filter((t) => /^(tls|command):/.test(t)).sort(), ["command:remote:Command", ...Array(3).fill("tls:index/privateKey:PrivateKey")]);
    // Issue 19, item 3: the GPU serves the host key Fleet made for it (the install pinned it); no
    // onstart holds a private key; on the standby the pair's key runs the sync and nothing else.
    const exported = execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", c.stack], { cwd: REPO, env: { ...process.env, ...c.env }, encoding: "utf8" });
    const install = JSON.parse(exported).deployment.resources.find((r: { type: string }) => r.type === "command:remote:Command");
    const served = fs.readFileSync(hostOf(gpu).path("/etc/ssh/ssh_host_ed25519_key.pub"), "utf8").trim();
    // A secret in the export is {<secret sig>, plaintext: its JSON}.
    const unsecret = (v: { plaintext?: string }) => (typeof v?.plaintext === "string" ? JSON.parse(v.plaintext) : v);
    assert.equal(unsecret(install.inputs.connection).hostKey, served, "the install pinned the host key the GPU serves");
    for (const inst of [gpu, standby]) assert.doesNotMatch(inst.onstart ?? "", /PRIVATE KEY/);
    assert.match(fs.readFileSync(hostOf(standby).path("/root/.ssh/authorized_keys"), "utf8"), /^restrict,command="\/usr\/local\/bin\/fleet-sync-serve" ssh-ed25519 /m);
    await run(["drift"], 0);
  });

  test("the GPU is lost (its host gone): reconcile converges without dialling it; the standby and its copy stay", async () => {
    const [gpu] = byRole("gpu");
    const [standby] = byRole("standby");
    const deadPort = hostOf(gpu!).port;
    hostOf(gpu!).stop();
    // The dead host's address swallows connections without answering (as a vanished host's does):
    // any ssh dial to it is counted.
    const dials: net.Socket[] = [];
    const blackhole = net.createServer((s) => dials.push(s));
    await new Promise<void>((r) => blackhole.listen(deadPort, "127.0.0.1", r));
    vast.instances = vast.instances.filter((i) => i.id !== gpu!.id);
    const r = await run(["reconcile", "--once", "--mode", "auto"]).finally(() => {
      dials.forEach((s) => s.destroy());
      blackhole.close();
    });
    assert.match(r.stdout, /standby\s+\S+\s+.*p1.*(lost|gpu-lost)/i);
    const t = types();
    assert.ok(!t.includes("command:remote:Command"), `the sync command went with the GPU: ${t.join(", ")}`);
    assert.equal(t.filter((x) => x.endsWith("VastInstance")).length, 1, "only the standby is left");
    assert.deepEqual(byRole("standby").map((i) => i.id), [standby!.id]);
    assert.equal(fs.readFileSync(hostOf(standby!).path("/data/workspace/model.ckpt"), "utf8"), "epoch 7");
    assert.deepEqual(stackState(c.stack, c.env).pending, []);
    assert.equal(dials.length, 0, "no ssh to the dead GPU host was tried");
    await run(["drift"], 0);
  });

  test("restore onto a new GPU pulls the standby's copy before the sync starts", async () => {
    await run(["gpu", "restore", "--pair", "p1", "--offer", "102"]);
    const gpus = byRole("gpu");
    assert.equal(gpus.length, 1);
    assert.equal(fs.readFileSync(hostOf(gpus[0]!).path("/workspace/model.ckpt"), "utf8"), "epoch 7", "the copy is back on the new GPU");
    await run(["drift"], 0);
  });

  test("gpu destroy removes the GPU and its standby; nothing is left on Vast or in the stack", async () => {
    await run(["gpu", "destroy", "--pair", "p1"]);
    assert.deepEqual(vast.instances, []);
    const t = types();
    assert.ok(!t.some((x) => x.endsWith("VastInstance") || x.startsWith("command:")), t.join(", "));
  });
});
