import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { sweepLibvirt } from "../../reconciler/hpc/sweep";
import { URI, domainTypeHere, freeCidr, libvirtSkipReason, scratch } from "../../scripts/lib/libvirt-scratch";
import { REPO } from "../helpers";
import { ENGINE_FILE_TIMEOUT_MS, engineEnv, engineSkipReason, fleet, processes, stackState, waitFor, type CliResult } from "./harness";

/**
 * The hpc area end to end on the real engine and the real libvirtd, through the `fleet` CLI as a
 * user runs it: up with the spec's power state, drift of a domain destroyed by hand, reconcile
 * restoring it, kill -9 of fleet and of its pulumi child during `up` (recover works from the pending
 * operations the engine recorded; no lock blocks the next run), and destroy leaving nothing.
 */
const skip = engineSkipReason() || libvirtSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

const virsh = (...args: string[]) => execFileSync("virsh", ["-q", "-c", URI, ...args], { encoding: "utf8" }).trim();
const list = (...args: string[]) => virsh(...args).split("\n").map((l) => l.trim()).filter(Boolean);

describe("hpc on the real engine and libvirtd", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  const s = skip ? undefined : scratch("fle");
  const stack = `${s?.prefix ?? "x"}-hpc`;
  const stackFile = path.join(REPO, `Pulumi.${stack}.yaml`);
  const { env, stateDir } = engineEnv();
  const specFile = (running: boolean) => {
    const file = path.join(s!.dir, `spec-${running}.yaml`);
    const spec = {
      name: s!.prefix,
      uri: URI,
      baseImage: s!.baseImage,
      pool: { name: `${s!.prefix}-pool`, path: path.join(s!.dir, "pool") },
      network: { cidr: cidr },
      domainType: domainTypeHere(),
      controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 },
      compute: { count: 2, vcpu: 1, memoryMiB: 64, diskGiB: 1 },
      running,
    };
    fs.writeFileSync(file, stringify(spec));
    return file;
  };
  let cidr = "";
  const domains = () => [`${s!.prefix}-ctl`, `${s!.prefix}-node-1`, `${s!.prefix}-node-2`];
  const run = async (args: string[], expect: number | "any" = 0): Promise<CliResult> => {
    const r = await fleet(["--stack", stack, ...args], env);
    if (expect !== "any") assert.equal(r.code, expect, `fleet ${args.join(" ")} -> ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  const appliedOutput = (): string | undefined => {
    const r = spawnSync("pulumi", ["stack", "output", "fleetDesired", "--stack", stack], { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };

  /** Every libvirt object of the cluster is in the stack's state, and nothing is pending or locked. */
  const assertAllRecorded = () => {
    const state = stackState(stack, env);
    assert.deepEqual(state.pending, []);
    const ids = (kind: string) => state.resources.filter((r) => r.type === `pulumi-nodejs:dynamic/fleet:${kind}`).map((r) => r.id).sort();
    assert.deepEqual(ids("LibvirtDomain"), list("list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)).sort());
    assert.deepEqual(ids("LibvirtNetwork"), list("net-list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)).sort());
    const pools = list("pool-list", "--all", "--name").filter((n) => n.startsWith(s!.prefix));
    assert.deepEqual(ids("LibvirtPool"), pools.sort());
    const volumes = pools.flatMap((p) => list("vol-list", p).map((l) => `${p}/${l.split(/\s+/)[0]}`));
    assert.deepEqual(ids("LibvirtVolume"), volumes.sort());
    const lockDir = path.join(stateDir, ".pulumi", "locks", "organization", "fleet", stack);
    assert.deepEqual(fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : [], []);
  };

  before(() => {
    if (skip) return;
    cidr = freeCidr(214);
    const policy = { journal: { path: path.join(s!.dir, "journal.db") }, signals: { pricesFile: "data/gcp-spot-sample.csv.gz" } };
    fs.writeFileSync(stackFile, stringify({ config: { "fleet:policy": policy } }));
  });
  after(async () => {
    if (skip) return;
    await sweepLibvirt(URI, s!.prefix);
    fs.rmSync(stackFile, { force: true });
    fs.rmSync(s!.dir, { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  test("hpc up records every domain, volume, network and pool with the power state the spec asks", async () => {
    await run(["hpc", "up", "--spec", specFile(false)]);
    const types = stackState(stack, env).resources.map((r) => r.type.split(":").pop());
    for (const [kind, n] of [["LibvirtPool", 1], ["LibvirtNetwork", 1], ["LibvirtVolume", 3], ["LibvirtDomain", 3]] as const) {
      assert.equal(types.filter((t) => t === kind).length, n, `${kind} in ${types.join(", ")}`);
    }
    for (const d of domains()) assert.equal(virsh("domstate", d), "shut off");
    assertAllRecorded();
  });

  test("a domain destroyed by hand is drift naming it (exit 3); reconcile --once restores it", async () => {
    await run(["hpc", "start"]);
    for (const d of domains()) assert.equal(virsh("domstate", d), "running");
    virsh("destroy", `${s!.prefix}-node-1`);
    virsh("destroy", `${s!.prefix}-node-2`);
    virsh("undefine", `${s!.prefix}-node-2`);
    const drift = await run(["drift"], 3);
    assert.match(drift.stdout, new RegExp(`update \\S+::${s!.prefix}-node-1\\b`));
    assert.match(drift.stdout, new RegExp(`create \\S+::${s!.prefix}-node-2\\b`));
    await run(["reconcile", "--once", "--mode", "auto"]);
    for (const d of domains()) assert.equal(virsh("domstate", d), "running");
    await run(["drift"], 0);
    assertAllRecorded();
  });

  // Both kills leave the engine's lock and its pending creates behind; the next run removes the
  // lock of the dead process, refuses to update over pending creates, and `fleet recover` undoes them.
  for (const victim of ["fleet", "its pulumi child"] as const) {
    test(`kill -9 of ${victim} during up: nothing unrecorded after recover, no lock blocks the next run`, async () => {
      if (JSON.parse(appliedOutput() ?? "{}").hpc) await run(["hpc", "destroy", "--force"]);
      let pid = 0;
      const up = fleet(["--stack", stack, "hpc", "up", "--spec", specFile(true)], env, (c) => (pid = c.pid!));
      await waitFor(() => list("list", "--all", "--name").some((n) => n.startsWith(s!.prefix)), 120_000, "the first domain");
      const pulumi = processes(`--stack ${stack}`, pid).filter((p) => processes("pulumi up", undefined).includes(p));
      assert.equal(pulumi.length, 1, "one pulumi child");
      process.kill(victim === "fleet" ? pid : pulumi[0]!, "SIGKILL");
      const killed = await up;
      assert.notEqual(killed.code, 0);
      await waitFor(() => processes(`--stack ${stack}`).length === 0, 60_000, "the pulumi child to end");

      // Whichever process died, no lock of a dead pulumi is left for the next run to trip on: the
      // surviving fleet removes it itself, or the next run does (and says so).
      const next = await run(["reconcile", "--once", "--mode", "auto"], "any");
      assert.match(killed.stderr + next.stderr, /removed the engine lock of pulumi pid \d+/);
      if (stackState(stack, env).pending.length) {
        assert.equal(next.code, 1, next.stdout + next.stderr);
        assert.match(next.stderr, /pending operation.*fleet recover/s);
        await run(["recover", "--yes"]);
        await run(["reconcile", "--once", "--mode", "auto"]);
      } else assert.equal(next.code, 0, next.stdout + next.stderr);
      // The applied fleet lives in the backend (the stack's fleetDesired output): a killed update may
      // have recorded the new cluster there; a surviving fleet records the fleet before it back.
      const wanted = JSON.parse(appliedOutput() ?? "{}").hpc;
      const names = list("list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)).sort();
      assert.deepEqual(names, wanted ? [...domains()].sort() : []);
      for (const d of names) assert.equal(virsh("domstate", d), "running");
      assertAllRecorded();
    });
  }

  test("hpc destroy leaves nothing in libvirt or the stack", async () => {
    await run(["hpc", "up", "--spec", specFile(true)]);
    assert.equal(stackState(stack, env).resources.filter((r) => r.type.endsWith("LibvirtDomain")).length, 3);
    await run(["hpc", "destroy", "--force"]);
    const state = stackState(stack, env);
    assert.deepEqual(state.resources.filter((r) => r.type.includes("Libvirt") || r.type.includes("hpc")), []);
    assert.deepEqual(list("list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)), []);
    assert.deepEqual(list("net-list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)), []);
    assert.deepEqual(list("pool-list", "--all", "--name").filter((n) => n.startsWith(s!.prefix)), []);
    assertAllRecorded();
  });
});
