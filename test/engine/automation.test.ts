import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openAutomationApplier, type AutomationApplier } from "../../reconciler/apply/automation";
import { StackBusyError } from "../../reconciler/apply/types";
import { loadStackConfig } from "../../reconciler/config/load";
import { sweepLibvirt } from "../../reconciler/hpc/sweep";
import { EMPTY_DESIRED, HpcSpecSchema, type DesiredFleet } from "../../reconciler/model";
import { REPO } from "../helpers";
import { ENGINE_FILE_TIMEOUT_MS, engineSkipReason } from "./harness";
import { URI, domainTypeHere, freeCidr, libvirtSkipReason, scratch } from "../../scripts/lib/libvirt-scratch";

/**
 * The real engine: the project's own program (stacks/), the local file backend, the policy pack,
 * and the hpc providers against the real libvirtd. Runs where `pulumi` is on PATH; skipped (and
 * reported as skipped) elsewhere.
 */
/** Every test carries the skip, so the runner reports each one as skipped (a suite-level skip counts none). */
const skip = engineSkipReason() || libvirtSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("Automation API against the real engine", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  const s = skip ? undefined : scratch();
  const stack = `${s?.prefix ?? "x"}-engine`;
  const stackFile = path.join(REPO, `Pulumi.${stack}.yaml`);
  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${fs.mkdtempSync(path.join(os.tmpdir(), "fleet-state-"))}`, PULUMI_CONFIG_PASSPHRASE: "fleet-engine-test" };
  let applier: AutomationApplier;
  const hpc = () =>
    HpcSpecSchema.parse({
      name: s!.prefix,
      uri: URI,
      baseImage: s!.baseImage,
      pool: { name: `${s!.prefix}-pool`, path: path.join(s!.dir, "pool") },
      network: { cidr: freeCidr() },
      domainType: domainTypeHere(),
      controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 },
      compute: { count: 2, vcpu: 1, memoryMiB: 64, diskGiB: 1 },
    });

  before(async () => {
    if (skip) return;
    fs.writeFileSync(stackFile, "config: {}\n");
    applier = await openAutomationApplier(loadStackConfig(REPO, stack, {}), "engine test", env);
  });
  after(async () => {
    if (skip) return;
    try {
      await applier?.up(EMPTY_DESIRED);
    } finally {
      await sweepLibvirt(URI, s!.prefix);
      fs.rmSync(stackFile, { force: true });
      fs.rmSync(s!.dir, { recursive: true, force: true });
    }
  });

  test("an empty fleet previews and applies with no resource changes, and no drift", async () => {
    const p = await applier.preview(EMPTY_DESIRED);
    assert.deepEqual(p.policy, []);
    await applier.up(EMPTY_DESIRED);
    assert.deepEqual(await applier.refreshPreview(), []);
    assert.deepEqual(await applier.pendingOperations(), []);
  });

  test("preview writes nothing; up records the applied fleet in the backend, not in the stack file, and a plain pulumi preview converges on it", async () => {
    const desired: DesiredFleet = { ...EMPTY_DESIRED, hpc: hpc() };
    const before = fs.readFileSync(stackFile, "utf8");
    const p = await applier.preview(desired);
    assert.ok((p.counts.create ?? 0) >= 8, JSON.stringify(p.counts)); // pool, network, 3 volumes, 3 domains, component
    await applier.up(desired);
    assert.equal(fs.readFileSync(stackFile, "utf8"), before, "the stack file is only the first update's input");
    assert.deepEqual((await applier.appliedDesired()).hpc, desired.hpc);
    for (const n of [`${s!.prefix}-ctl`, `${s!.prefix}-node-1`, `${s!.prefix}-node-2`]) assert.equal(execFileSync("virsh", ["-c", URI, "domstate", n], { encoding: "utf8" }).trim(), "running");
    // What CI or a person runs: `pulumi preview` with no candidate reads the fleet this stack applied.
    const plain = spawnSync("pulumi", ["preview", "--stack", stack, "--non-interactive", "--expect-no-changes"], { cwd: REPO, env, encoding: "utf8" });
    assert.equal(plain.status, 0, plain.stdout + plain.stderr);
  });

  test("a node destroyed by hand is infrastructure drift, and up restores it", async () => {
    execFileSync("virsh", ["-c", URI, "destroy", `${s!.prefix}-node-1`]);
    const drift = await applier.refreshPreview();
    assert.ok(drift.some((c) => c.urn.endsWith(`${s!.prefix}-node-1`)), JSON.stringify(drift));
    await applier.up(await applier.appliedDesired());
    assert.equal(execFileSync("virsh", ["-c", URI, "domstate", `${s!.prefix}-node-1`], { encoding: "utf8" }).trim(), "running");
  });

  test("a second update while one runs is StackBusyError", async () => {
    const desired = await applier.appliedDesired();
    const other = await openAutomationApplier(loadStackConfig(REPO, stack, {}), "engine test", env);
    const first = applier.up({ ...desired, hpc: { ...desired.hpc!, running: false } });
    await new Promise((r) => setTimeout(r, 1500));
    await assert.rejects(other.up(desired), StackBusyError);
    await first;
  });

  test("removing the cluster from the desired fleet deletes every domain, volume and the network", async () => {
    await applier.up(EMPTY_DESIRED);
    const left = execFileSync("virsh", ["-c", URI, "list", "--all", "--name"], { encoding: "utf8" }).split("\n").filter((n) => n.startsWith(s!.prefix));
    assert.deepEqual(left, []);
  });
});
