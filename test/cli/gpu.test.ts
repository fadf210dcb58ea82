import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { sampleCpuOffers, sampleOffers, VastDouble } from "../doubles/vast-api";
import { REPO, runFleetInProcess, tempProject } from "../helpers";

// A PATH without the Pulumi CLI: commands that need the engine stop there, after their checks.
const PATH = (process.env.PATH ?? "").split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, "pulumi"))).join(path.delimiter);

async function withVast(fn: (env: Record<string, string>, d: VastDouble) => Promise<void>) {
  const d = new VastDouble(sampleOffers(), "cli-secret-key-123");
  const url = await d.start();
  try {
    await fn({ PATH, VAST_API_KEY: "cli-secret-key-123", VAST_API_URL: url }, d);
  } finally {
    await d.stop();
  }
}

test("fleet gpu offers: a table cheapest first under the policy, --json, flags override the policy; the key never printed", async () => {
  await withVast(async (env) => {
    const dir = tempProject("config: {}\n");
    const r = await runFleetInProcess(["--stack", "test", "gpu", "offers", "--gpu-ram-min", "20", "--max-price", "0.5"], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^\d+ /.test(l));
    assert.deepEqual(rows.map((l) => l.split(/\s+/)[0]), ["102", "101"], "103 is below reliability 0.95, 104 above $0.5");
    assert.match(r.stdout, /cheapest meeting the policy: 102/);
    const j = await runFleetInProcess(["--stack", "test", "gpu", "offers", "--max-price", "2", "--json"], { cwd: dir, env });
    assert.deepEqual(JSON.parse(j.stdout).offers.map((o: { id: number }) => o.id), [102, 101, 104]);
    assert.ok(!(r.stdout + r.stderr + j.stdout + j.stderr).includes("cli-secret-key-123"));
  });
});

test("fleet gpu offers --standby: hosts for a Vast standby under standby.vastStandby (no GPU by default), cheapest first", async () => {
  await withVast(async (env, d) => {
    d.offers.push(...sampleCpuOffers());
    const dir = tempProject("config:\n  fleet:policy:\n    standby:\n      target: vast\n");
    const r = await runFleetInProcess(["--stack", "test", "gpu", "offers", "--standby"], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^\d+ /.test(l)).map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(rows, ["202", "201"], "203 has 1 core; 204 comes with a GPU; no GPU offer is listed");
    assert.match(r.stdout, /cheapest meeting the policy: 202 \(gpu boot picks on the GPU's continent first\)/);
    const bad = await runFleetInProcess(["--stack", "test", "gpu", "offers", "--standby", "--gpu", "RTX_4090"], { cwd: dir, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--standby: lists standby hosts: --gpu and --gpu-ram-min do not apply/);
  });
});

test("fleet gpu: bad flags and a missing key exit 2 naming the field, and write nothing", async () => {
  await withVast(async (env) => {
    const dir = tempProject("config: {}\n");
    for (const [args, field, e] of [
      [["gpu", "offers", "--max-price", "cheap"], /--max-price: 'cheap' is not a number/, env],
      [["gpu", "boot", "--offer", "12x"], /--offer: '12x' is not a positive whole number/, env],
      [["gpu", "destroy"], /--instance: give exactly one of --instance ID or --pair P/, env],
      [["gpu", "restore", "--pair", "p", "--offer", "-3"], /--offer: '-3' is not a positive whole number/, env],
      [["gpu", "offers"], /VAST_API_KEY: not set/, { PATH }],
      [["gpu", "boot", "--offer", "101"], /VAST_API_KEY: not set/, { PATH }],
      [["gpu", "boot", "--offer", "555"], /--offer: offer 555 is not rentable any more/, env],
    ] as const) {
      const r = await runFleetInProcess(["--stack", "test", ...args], { cwd: dir, env: e as Record<string, string> });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, field);
    }
    assert.equal(fs.existsSync(path.join(dir, ".fleet")), false, "no journal was made");
  });
});

test("fleet gpu boot without the Pulumi CLI: the offer is checked, then it stops with how to install the engine; nothing rented", async () => {
  await withVast(async (env, d) => {
    const dir = tempProject("config: {}\n");
    const r = await runFleetInProcess(["--stack", "test", "gpu", "boot", "--offer", "102"], { cwd: dir, env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /\[1\/4\] checking offer 102[\s\S]*RTX 4090 25 GB, \$0.3500\/h/);
    assert.match(r.stderr, /needs the Pulumi CLI/);
    assert.equal(d.instances.length, 0);
    assert.equal(d.calls.filter((c) => c.method === "PUT").length, 0);
  });
});

test("fleet gpu status: no pairs; Vast unreadable is said, not fatal", async () => {
  await withVast(async (env) => {
    const dir = tempProject("config: {}\n");
    const r = await runFleetInProcess(["--stack", "test", "gpu", "status"], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Vast.ai: read\nno GPU\/standby pairs/);
    const bad = await runFleetInProcess(["--stack", "test", "gpu", "status", "--json"], { cwd: dir, env: { ...env, VAST_API_KEY: "wrong" } });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(JSON.parse(bad.stdout).vast, /rejected the API key \(401\)/);
  });
});

test("fleet burst create|terminate: bad flags exit 2; limits are checked before the engine is looked for (exit 4)", async () => {
  const dir = tempProject("config: {}\n");
  for (const [args, code, re] of [
    [["burst", "create", "--count", "0"], 2, /--count: '0' is not a positive whole number/],
    [["burst", "terminate"], 2, /--name: give exactly one of --name N or --all/],
    [["burst", "terminate", "--name", "x"], 2, /--name: no burst VM 'x'/],
    // The bundled price file is older than maxPriceAgeHours: no VM by hand either (fail closed).
    [["burst", "create", "--count", "1"], 4, /no allowed pool with a fresh price/],
  ] as const) {
    const r = await runFleetInProcess(["--stack", "test", ...args], { cwd: dir, env: { PATH, FLEET_SIGNALS_PRICES_FILE: path.join(REPO, "data", "gcp-spot-sample.csv.gz") } });
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test("fleet gpu offers --gpu RTX_4090 and --gpu \"RTX 4090\" list the same offers (Vast names have spaces)", async () => {
  await withVast(async (env) => {
    const dir = tempProject("config: {}\n");
    const ids = async (gpu: string) => {
      const r = await runFleetInProcess(["--stack", "test", "gpu", "offers", "--gpu", gpu, "--max-price", "2", "--json"], { cwd: dir, env });
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).offers.map((o: { id: number }) => o.id);
    };
    const underscore = await ids("RTX_4090");
    assert.deepEqual(underscore, [102, 101]);
    assert.deepEqual(await ids("RTX 4090"), underscore);
  });
});
