// The official Vast.ai CLI (PyPI `vastai`, pinned in .ci/run) as the reference client: it runs
// against the Vast double, so the double must answer what the CLI needs (a missing field is a
// CLI crash), and Fleet's client must send what the CLI sends for the same operation and get the
// same answer. CI sets FLEET_REQUIRE_VASTAI=1: a missing CLI is then a failure, never a skip.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { VastDouble, sampleOffers } from "../doubles/vast-api";
import { VastClient } from "../../reconciler/vast/client";

const run = promisify(execFile);
const present = spawnSync("vastai", ["--version"], { stdio: "ignore" }).status === 0;
if (!present && process.env.FLEET_REQUIRE_VASTAI === "1")
  throw new Error("FLEET_REQUIRE_VASTAI=1 but the vastai CLI is not on PATH (pip install vastai)");
const skip = present ? false : "the official vastai CLI is not installed (pip install vastai)";

const vast = new VastDouble(sampleOffers());
let root = "";
let fleet: VastClient;
before(async () => {
  const base = await vast.start();
  root = base.replace(/\/api\/v0$/, "");
  fleet = new VastClient({ apiKey: vast.apiKey, baseUrl: base });
});
after(() => vast.stop());

/** The CLI's JSON answer (--raw), run as a user runs it, with a scratch HOME (no stored key). */
async function cli(...args: string[]): Promise<any> {
  const env = { ...process.env, HOME: "/tmp/fleet-vastai-home" };
  const { stdout } = await run("vastai", ["--url", root, "--api-key", vast.apiKey, "--raw", ...args], {
    env,
    timeout: 60_000,
  });
  return stdout.trim() ? JSON.parse(stdout) : null;
}
const callsTo = (method: string, prefix: string) =>
  vast.calls.filter((c) => c.method === method && c.path.startsWith(prefix));

test(
  "search: the CLI's query and Fleet's, for RTX_4090 and 'RTX 4090', find the same offers; Fleet sends every filter the CLI sends",
  { skip },
  async () => {
    const before = vast.calls.length;
    const byCli = (await cli("search", "offers", "gpu_name=RTX_4090")) as { id: number }[];
    const cliBody = vast.calls.slice(before).find((c) => c.path === "/bundles/")!.body;
    const fleetUnderscore = await fleet.searchOffers({ gpuName: "RTX_4090" });
    const fleetBody = vast.calls.at(-1)!.body;
    const fleetSpace = await fleet.searchOffers({ gpuName: "RTX 4090" });
    assert.ok(byCli.length > 0, "the CLI finds offers");
    const ids = (xs: { id: number }[]) => xs.map((x) => x.id).sort((a, b) => a - b);
    assert.deepEqual(ids(fleetUnderscore), ids(byCli));
    assert.deepEqual(ids(fleetSpace), ids(byCli));
    for (const key of ["verified", "external", "rentable", "gpu_name", "type"])
      assert.deepEqual(fleetBody[key], cliBody[key], `Fleet's ${key} is the CLI's`);
  },
);

test(
  "create, list and destroy: the double serves the CLI, and Fleet's requests carry what the CLI's do",
  { skip },
  async () => {
    const offer = sampleOffers()[1]!.id;
    const made = await cli(
      "create",
      "instance",
      String(offer),
      "--image",
      "pytorch/pytorch:latest",
      "--disk",
      "40",
      "--label",
      "fleet-pair-cli",
      "--onstart-cmd",
      "true",
    );
    assert.equal(made.success, true);
    const cliAsk = callsTo("PUT", `/asks/${offer}/`).at(-1)!.body;
    const other = sampleOffers()[2]!.id;
    const id = await fleet.createInstance(other, {
      image: "pytorch/pytorch:latest",
      diskGb: 40,
      onstart: "true",
      label: "fleet-pair-fleet",
    });
    const fleetAsk = callsTo("PUT", `/asks/${other}/`).at(-1)!.body;
    for (const key of Object.keys(fleetAsk))
      assert.ok(key in cliAsk, `Fleet sends ${key}, which the CLI's request has too`);
    for (const key of ["client_id", "image", "disk", "onstart", "runtype"])
      assert.deepEqual(fleetAsk[key], cliAsk[key], key);
    // The paged v1 list, as the CLI pages it, holds both; Fleet's list says the same.
    const listed = (await cli("show", "instances")) as { id: number; label: string }[];
    assert.ok(callsTo("GET", "/v1/instances/").length > 0, "the CLI reads the v1 list");
    const mine = await fleet.showInstances();
    assert.deepEqual(mine.map((i) => [i.id, i.label]).sort(), listed.map((i) => [i.id, i.label]).sort());
    await cli("destroy", "instance", String(made.new_contract), "--yes");
    await fleet.destroyInstance(id);
    assert.equal(callsTo("DELETE", "/instances/").length, 2);
    assert.deepEqual(await fleet.showInstances(), []);
    assert.deepEqual(await cli("show", "instances"), []);
  },
);
