import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { StackConfig } from "../../reconciler/config/load";
import { BlockedError, InputError } from "../../reconciler/errors";
import { Journal } from "../../reconciler/journal";
import { EMPTY_DESIRED, type DesiredFleet } from "../../reconciler/model";
import { bootGpu, destroyGpu, gpuStatus, restoreGpu, setupGpuHost, type GpuDeps } from "../../reconciler/standby/service";
import { waitForSsh } from "../../reconciler/standby/ssh";
import { FleetWithStandbyReader, GPU_DESTROY_EVENT } from "../../reconciler/standby/sources";
import { VastClient } from "../../reconciler/vast/client";
import { RecordingApplier } from "../doubles/applier";
import { sampleCpuOffers, sampleOffers, VastDouble } from "../doubles/vast-api";
import { policy } from "../helpers";

const T0 = Date.parse("2026-11-22T12:00:00Z");

async function harness(fn: (h: { deps: GpuDeps; applier: RecordingApplier; vast: VastClient; double: VastDouble; journal: Journal; lines: string[]; cfg: StackConfig }) => Promise<void>, opts: { applied?: DesiredFleet; standby?: Record<string, unknown> } = {}) {
  const double = new VastDouble(sampleOffers());
  const baseUrl = await double.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gpu-"));
  const journal = Journal.open(path.join(dir, "journal.db"));
  const applier = new RecordingApplier(opts.applied ?? EMPTY_DESIRED);
  const vast = new VastClient({ apiKey: "vast-test-key", baseUrl, retries: 1, backoffMs: 1 });
  const cfg: StackConfig = { root: dir, stack: "test", file: "Pulumi.test.yaml", policy: policy({ standby: { gpu: { gpuRamMinGb: 20 }, ...opts.standby } }), desired: opts.applied ?? EMPTY_DESIRED };
  let t = T0;
  const lines: string[] = [];
  const deps: GpuDeps = { cfg, vast, journal: () => journal, applier: async () => applier, now: () => (t += 1000), say: (l) => lines.push(l) };
  try {
    await fn({ deps, applier, vast, double, journal, lines, cfg });
  } finally {
    journal.close();
    await double.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("gpu boot: checks the offer on Vast, applies a pair with its standby on the GPU's continent, reports progress, journals the GPU's lifetime", async () => {
  await harness(async ({ deps, applier, journal, lines }) => {
    applier.progress = [{ urn: "urn:pulumi:test::fleet::fleet:VastInstance::pair-gpu-102-gpu", type: "fleet:VastInstance", op: "create", phase: "started" }, { urn: "urn:pulumi:test::fleet::fleet:VastInstance::pair-gpu-102-gpu", type: "fleet:VastInstance", op: "create", phase: "done" }];
    const pair = await bootGpu(deps, { offerId: 102 });
    assert.equal(pair.pairId, "gpu-102");
    assert.deepEqual(pair.standby, { target: "gcp", region: "europe-west1", machineType: "e2-medium", diskGb: 100 }, "Germany -> EU -> europe-west1");
    assert.equal(applier.applied.standby.pairs.length, 1);
    assert.deepEqual(applier.applied.standby.pairs[0]!.gpu, { offerId: 102, gpuName: "RTX 4090", dphUsd: 0.35, geolocation: "Germany, DE" });
    assert.match(lines.join("\n"), /\[1\/4\][\s\S]*ok  create fleet:VastInstance pair-gpu-102-gpu[\s\S]*\[4\/4\] pair gpu-102 running/);
    assert.deepEqual(journal.openLifetimes("test", "standby").map((l) => [l.name, l.hourUsd]), [["gpu-gpu-102-102", 0.35]]);
  });
});

test("gpu boot, standby.target vast: a CPU host on Vast (no GPU, the GPU's continent) holds the copy; its price is journalled and counted", async () => {
  await harness(
    async ({ deps, applier, double, journal, lines, vast, cfg }) => {
      double.offers.push(...sampleCpuOffers());
      const pair = await bootGpu(deps, { offerId: 101 });
      // 203 has too few cores, 204 comes with a GPU (cpuOnly), 202 is the cheapest left and in North America like the GPU.
      assert.deepEqual(pair.standby, { target: "vast", offerId: 202, dphUsd: 0.04, geolocation: "US, TX", diskGb: 100 });
      const q = double.calls.find((c) => c.path === "/bundles/" && c.body?.cpu_cores_effective)!.body;
      assert.deepEqual([q.num_gpus, q.cpu_cores_effective, q.cpu_ram, q.disk_space, q.allocated_storage, q.type], [{ eq: 0 }, { gte: 2 }, { gte: 4000 }, { gte: 100 }, 100, "on-demand"]);
      assert.match(lines.join("\n"), /standby host: offer 202, 2 cores, 8 GB RAM, \$0\.0400\/h, US, TX/);
      assert.deepEqual(journal.openLifetimes("test", "standby").map((l) => [l.name, l.hourUsd]).sort(), [["gpu-gpu-101-101", 0.42], ["standby-gpu-101-202", 0.04]]);
      // The standby's instance is not a GPU: destroy by its id is refused with the way to do it.
      const standbyId = await vast.createInstance(201, { image: "ubuntu:22.04", diskGb: 100, onstart: "", label: "fleet-standby-gpu-101" });
      await assert.rejects(destroyGpu(deps, { instanceId: standbyId }), /instance \d+ is pair gpu-101's standby, not a GPU: give the GPU's instance, or --pair gpu-101/);
      const status = await gpuStatus({ cfg, standby: applier.applied.standby, vast, journal, now: T0 + 3_600_000 });
      assert.deepEqual([status.pairs[0]!.standby.target, status.pairs[0]!.standby.instanceId], ["vast", standbyId]);
      assert.deepEqual(status.unmanaged, [], "the standby's instance belongs to its pair");
    },
    { standby: { target: "vast" } },
  );
});

test("gpu boot, standby.target vast: no host meets the requirements (or only GPU hosts, cpuOnly) -> refused before the engine, nothing rented", async () => {
  await harness(
    async ({ deps, applier, double }) => {
      double.offers.push(...sampleCpuOffers());
      await assert.rejects(bootGpu(deps, { offerId: 101 }), (e: unknown) => e instanceof BlockedError && /no Vast.ai host meets standby.vastStandby \(>= 8 cores[\s\S]*setting standby.vastStandby.cpuOnly false also accepts hosts that come with a GPU/.test(e.message));
      assert.equal(applier.count("up"), 0);
      assert.equal(applier.count("appliedDesired"), 0, "the engine was not even opened");
      assert.ok(!double.calls.some((c) => c.method === "PUT"), "nothing rented");
    },
    { standby: { target: "vast", vastStandby: { cpuCoresMin: 8 } } },
  );
});

test("gpu boot: an offer rented since the search, one above the price limit, or past maxPairs changes nothing", async () => {
  await harness(async ({ deps, applier, double }) => {
    double.offers.find((o) => o.id === 101)!.rentable = false;
    await assert.rejects(bootGpu(deps, { offerId: 101 }), (e: unknown) => e instanceof InputError && /--offer: offer 101 is not rentable any more/.test(e.message));
    await assert.rejects(bootGpu(deps, { offerId: 104 }), (e: unknown) => e instanceof BlockedError && /above standby.gpu.maxDphUsd \$1\/h/.test(e.message));
    assert.equal(applier.count("up"), 0);
  });
  await harness(
    async ({ deps, applier }) => {
      await bootGpu(deps, { offerId: 103 });
      await assert.rejects(bootGpu(deps, { offerId: 102 }), (e: unknown) => e instanceof BlockedError && /standby.maxPairs is 1/.test(e.message));
      assert.equal(applier.count("up"), 1);
    },
    { standby: { maxPairs: 1 } },
  );
  await harness(
    async ({ deps }) => {
      await bootGpu(deps, { offerId: 103 });
      await assert.rejects(bootGpu(deps, { offerId: 102 }), /the pairs would rent \$0.55\/h on Vast.ai together, above standby.maxTotalDphUsd \$0.5\/h/);
    },
    { standby: { maxTotalDphUsd: 0.5 } },
  );
});

test("gpu boot: a failed apply is reported and counted by the breaker; the journal has the failed apply", async () => {
  await harness(async ({ deps, applier, journal }) => {
    applier.failNext("up", new Error("gcp: quota exceeded"));
    await assert.rejects(bootGpu(deps, { offerId: 102 }), /apply failed: gcp: quota exceeded/);
    assert.equal(journal.areaState("test", "standby").consecutiveFailures, 1);
    assert.deepEqual(journal.openLifetimes("test", "standby"), []);
  });
});

test("gpu destroy --instance: finds the pair by the instance's label, records the request, removes the pair", async () => {
  await harness(async ({ deps, applier, vast, journal }) => {
    await bootGpu(deps, { offerId: 102 });
    const id = await vast.createInstance(102 + 1, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-gpu-102" });
    await assert.rejects(destroyGpu(deps, { instanceId: 424242 }), /--instance: Vast.ai has no instance 424242/);
    await destroyGpu(deps, { instanceId: id });
    assert.deepEqual(applier.applied.standby.pairs, []);
    assert.equal(journal.events("test", { kind: GPU_DESTROY_EVENT })[0]!.detail && (journal.events("test", { kind: GPU_DESTROY_EVENT })[0]!.detail as { pairId: string }).pairId, "gpu-102");
    assert.deepEqual(journal.openLifetimes("test", "standby"), [], "the GPU's lifetime ended");
  });
});

test("gpu destroy: an instance of no pair is refused (the sweep handles those)", async () => {
  await harness(async ({ deps, vast, applier }) => {
    const id = await vast.createInstance(101, { image: "x", diskGb: 50, onstart: "", label: "someone-else" });
    await assert.rejects(destroyGpu(deps, { instanceId: id }), /belongs to no pair/);
    assert.equal(applier.count("up"), 0);
  });
});

test("gpu restore: a gpu-lost pair gets the cheapest matching offer, restoring first, running only after the apply", async () => {
  const applied: DesiredFleet = { ...EMPTY_DESIRED, standby: { pairs: [{ pairId: "train", state: "gpu-lost", gpu: { offerId: 99, gpuName: "RTX_4090", dphUsd: 0.3, geolocation: "US, CA" }, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" }] } };
  await harness(
    async ({ deps, applier, lines }) => {
      await restoreGpu(deps, { pairId: "train" });
      const ups = applier.calls.filter((c) => c.method === "up").map((c) => (c.arg as DesiredFleet).standby.pairs[0]!);
      assert.deepEqual(ups.map((p) => [p.state, p.gpu?.offerId]), [["restoring", 102], ["running", 102]], "cheapest offer with >= 20 GB and reliability >= 0.95 is 102");
      assert.equal(ups[0]!.standby.target === "gcp" && ups[0]!.standby.region, "us-central1", "the standby (and its disk) stays where it is");
      assert.match(lines.join("\n"), /\[3\/5\] booting the GPU and pulling the standby's copy[\s\S]*\[5\/5\] pair train running/);
    },
    { applied },
  );
  await harness(
    async ({ deps, applier }) => {
      applier.failNext("up", new Error("ssh: restore pull failed"));
      await assert.rejects(restoreGpu(deps, { pairId: "train", offerId: 101 }), /restore pull failed/);
      assert.equal(applier.count("up"), 1, "never marked running after a failed restore");
      await assert.rejects(restoreGpu(deps, { pairId: "nope" }), /--pair: no pair 'nope'/);
    },
    { applied },
  );
});

test("gpu status: each pair with its Vast instance, last sync from the GPU host and the GPU cost so far", async () => {
  await harness(async ({ deps, vast, journal, cfg }) => {
    await bootGpu(deps, { offerId: 102 });
    const id = await vast.createInstance(103, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-gpu-102" });
    await vast.createInstance(101, { image: "x", diskGb: 50, onstart: "", label: "stray" });
    const standby = (await deps.applier()).appliedDesired();
    const s = await gpuStatus({ cfg, standby: (await standby).standby, vast, journal, now: T0 + 2 * 3_600_000, lastSync: async (i) => (i.id === id ? "2026-11-22T13:59:30Z" : null) });
    assert.equal(s.pairs.length, 1);
    assert.equal(s.pairs[0]!.gpu.instanceId, id);
    assert.equal(s.pairs[0]!.lastSyncAt, "2026-11-22T13:59:30Z");
    assert.ok(Math.abs(s.pairs[0]!.costSoFarUsd - 0.35 * 2) < 0.01, `2 h at $0.35/h, got ${s.pairs[0]!.costSoFarUsd}`);
    assert.equal(s.unmanaged.length, 1);
    const noKey = await gpuStatus({ cfg, standby: (await standby).standby, vast: null, journal, now: T0 });
    assert.equal(noKey.vast, "no-key");
  });
});

test("standby reader: Vast's view per pair; no key with pairs reads as unknown, a destroy request as destroyed", async () => {
  await harness(async ({ vast, journal }) => {
    const pairs = [
      { pairId: "a", state: "running" as const, gpu: { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.42, geolocation: "US, CA" }, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" },
      { pairId: "b", state: "running" as const, gpu: { offerId: 102, gpuName: "RTX_4090", dphUsd: 0.35, geolocation: "Germany, DE" }, standby: { target: "gcp" as const, region: "europe-west1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" },
      { pairId: "c", state: "running" as const, gpu: { offerId: 103, gpuName: "RTX_3090", dphUsd: 0.2, geolocation: "US, TX" }, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" },
    ];
    await vast.createInstance(101, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-a" });
    const bId = await vast.createInstance(102, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-b" });
    journal.recordEvent({ at: "2026-11-22T11:00:00.000Z", stack: "test", area: "standby", kind: GPU_DESTROY_EVENT, detail: { pairId: "b" } });
    const inner = { actual: async () => ({ burst: [] }) };
    const r = await new FleetWithStandbyReader(inner, { standby: { pairs }, vast, journal, stack: "test" }).actual();
    assert.deepEqual(r.standby!.map((o) => [o.pairId, o.gpu.state]), [["a", "running"], ["b", "destroyed"], ["c", "lost"]]);
    assert.equal(r.standby![1]!.gpu.instanceId, String(bId));
    const errors: unknown[] = [];
    const blind = await new FleetWithStandbyReader(inner, { standby: { pairs }, vast: null, journal, stack: "test", onError: (e) => errors.push(e) }).actual();
    assert.equal(blind.standby, null);
    assert.match(String(errors[0]), /VAST_API_KEY is not set/);
    assert.deepEqual((await new FleetWithStandbyReader(inner, { standby: { pairs: [] }, vast: null, journal, stack: "test" }).actual()).standby, []);
  });
});

test("gpu boot setup: waits for ssh (bounded), runs the setup script, reports progress; a failing script is an error", async () => {
  await harness(
    async ({ deps, vast, double, lines, cfg }) => {
      fs.writeFileSync(path.join(cfg.root, "setup.sh"), "pip install -r requirements.txt\n");
      // The engine's create rents the instance and waits until it runs; here the double holds it,
      // running, with the pair's label.
      double.bootListings = 0;
      await vast.createInstance(101, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-gpu-102" });
      const ran: { host: string; port: number; input?: string }[] = [];
      deps.ssh = {
        wait: async (_t, o) => (o.onAttempt?.(1, "Connection refused"), 2),
        run: async (t, _cmd, o) => (ran.push({ host: t.host, port: t.port, input: o.input }), { code: 0, stdout: "Successfully installed torch\n", stderr: "" }),
      };
      await bootGpu(deps, { offerId: 102 });
      assert.deepEqual(ran, [{ host: "ssh5.vast.ai", port: 20000 + (9_000_001 % 1000), input: "pip install -r requirements.txt\n" }]);
      assert.match(lines.join("\n"), /\[setup\] waiting for ssh on ssh5.vast.ai:\d+ \(up to 300 s\)\n\[setup\]   attempt 1: Connection refused\n\[setup\] ssh answered after 2 attempt\(s\); running setup.sh\n\[setup\]   Successfully installed torch\n\[setup\] done/);
      deps.ssh = { wait: async () => 1, run: async () => ({ code: 3, stdout: "", stderr: "no such file\n" }) };
      await assert.rejects(setupGpuHost(deps, "gpu-102"), /setup: setup.sh exited 3/);
    },
    { standby: { setupScript: "setup.sh" } },
  );
});

test("waitForSsh with the real ssh: a host that never answers fails within the bound, naming the last error", { skip: spawnSync("ssh", ["-V"]).status === 0 ? false : "no ssh client" }, async () => {
  const started = Date.now();
  const attempts: string[] = [];
  await assert.rejects(waitForSsh({ host: "127.0.0.1", port: 1, user: "root" }, { timeoutMs: 3000, intervalMs: 500, onAttempt: (_n, last) => attempts.push(last) }), /ssh root@127.0.0.1:1 did not answer within 3 s \(\d+ attempts; last: .*(refused|Connection)/);
  assert.ok(Date.now() - started < 10_000, "bounded");
  assert.ok(attempts.length >= 2);
});

test("standby reader: GPU idle time spans cycles through the journal; busy again resets it; unknown utilisation changes nothing", async () => {
  await harness(async ({ vast, journal, double }) => {
    const pairs = [{ pairId: "a", state: "running" as const, gpu: { offerId: 101, gpuName: "RTX_4090", dphUsd: 0.42, geolocation: "US, CA" }, standby: { target: "gcp" as const, region: "us-central1", machineType: "e2-medium", diskGb: 100 }, since: "2026-11-22T10:00:00.000Z" }];
    await vast.createInstance(101, { image: "x", diskGb: 50, onstart: "", label: "fleet-pair-a" });
    const inst = double.instances[0]!;
    inst.actual_status = "running";
    let t = Date.parse("2026-11-22T12:00:00Z");
    const read = async () => (await new FleetWithStandbyReader({ actual: async () => ({ burst: [] }) }, { standby: { pairs }, vast, journal, stack: "test", idleBelowPct: 5, now: () => t }).actual()).standby![0]!.gpu.idleSince;
    inst.gpu_util = 2;
    assert.equal(await read(), "2026-11-22T12:00:00.000Z");
    t += 10 * 60_000;
    inst.gpu_util = 0;
    assert.equal(await read(), "2026-11-22T12:00:00.000Z", "still idle since the first idle reading");
    delete inst.gpu_util;
    t += 60_000;
    assert.equal(await read(), "2026-11-22T12:00:00.000Z", "unknown: no change");
    inst.gpu_util = 80;
    assert.equal(await read(), null, "busy again");
    inst.gpu_util = 1;
    t += 60_000;
    assert.equal(await read(), "2026-11-22T12:12:00.000Z", "a new idle stretch");
  });
});
