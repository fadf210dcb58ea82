import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { installMocks, type Created } from "./mocks";
import { ALL_POLICIES } from "../../policies/policies";
import { EMPTY_DESIRED, FleetPolicySchema, HpcSpecSchema, type DesiredFleet, type DesiredPool, type Pair } from "../../reconciler/model";
import { standbyRegionFor } from "../../reconciler/standby/geo";

/**
 * The contract between the components and the policy pack: every policy (as the pack registers it,
 * with its default config) over every resource every component declares under the mock runtime,
 * for all four areas, both pool providers and both standby targets. A fleet the policy allows has
 * no mandatory violation; one it does not gets the violation expected.
 */
let created: Created[];
before(() => {
  created = installMocks();
  pulumi.runtime.setConfig("gcp:project", "proj");
});

const policy = FleetPolicySchema.parse({ owner: "alice", pool: { awsImageId: "ami-0abcdef1234567890" } });
const AT = "2026-11-22T12:00:00.000Z";
const vm = (i: number, spotHourUsd = 0.03) => ({ name: `fleet-burst-20261122t1200-${i}`, zone: "us-east1-b", machineType: "e2-standard-4", spotHourUsd, createdAt: AT, expiresAt: "2026-11-22T15:00:00.000Z" });
const gcpPool: DesiredPool = { provider: "gcp", region: "us-central1", zone: "us-central1-a", instanceType: "e2-standard-4", vcpu: 4, ramGb: 16, market: "spot", hourUsd: 0.04, since: AT };
const awsPool: DesiredPool = { provider: "aws", region: "us-east-1", zone: "us-east-1a", instanceType: "m5.xlarge", vcpu: 4, ramGb: 16, market: "spot", hourUsd: 0.072, since: AT };
const gpu = (dphUsd = 0.42) => ({ offerId: 101, gpuName: "RTX 4090", dphUsd, geolocation: "Germany, DE" });
const gcpPair: Pair = { pairId: "g", state: "running", gpu: gpu(), standby: { target: "gcp", region: standbyRegionFor("Germany, DE", policy.standby.regionByContinent), machineType: "e2-medium", diskGb: 100 }, since: AT };
const vastPair: Pair = { pairId: "v", state: "running", gpu: gpu(), standby: { target: "vast", offerId: 202, dphUsd: 0.05, geolocation: "Germany, DE", diskGb: 100 }, since: AT };
const hpc = HpcSpecSchema.parse({ name: "ctr", baseImage: "/var/lib/images/base.qcow2", controller: { vcpu: 1, memoryMiB: 512, diskGiB: 10 }, compute: { count: 2, vcpu: 2, memoryMiB: 1024, diskGiB: 10 } });

/** The resources `defineFleet` declares for a desired fleet, as the policy pack sees them. */
async function declared(desired: DesiredFleet): Promise<Created[]> {
  const { defineFleet } = await import("../../stacks/fleet");
  const start = created.length;
  defineFleet(desired, policy);
  await new Promise((r) => setTimeout(r, 300));
  return created.slice(start);
}

/** The mock runtime's serialized secrets ({<secret sig>: ..., value}) as the pack sees them: plain values. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
function unsecret(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unsecret);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o) return unsecret(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unsecret(x)]));
  }
  return v;
}

/** Every policy over the resources, with each policy's default config; mandatory violations only. */
function violations(resources: Created[]): string[] {
  const out: string[] = [];
  const defaults = (p: { configSchema?: { properties?: Record<string, { default?: unknown }> } }) =>
    Object.fromEntries(Object.entries(p.configSchema?.properties ?? {}).map(([k, v]) => [k, v.default]));
  for (const p of ALL_POLICIES) {
    if (p.enforcementLevel !== "mandatory") continue;
    const getConfig = <T>() => defaults(p) as T;
    const asArgs = (r: Created) => ({ type: r.type, props: unsecret(r.inputs), urn: `urn:pulumi:test::fleet::${r.type}::${r.name}`, name: r.name, getConfig }) as never;
    if ("validateResource" in p) {
      const validate = (p as ResourceValidationPolicy).validateResource as Function;
      for (const r of resources) validate(asArgs(r), (m: string) => out.push(`${p.name} on ${r.name}: ${m}`));
    } else {
      const validate = (p as StackValidationPolicy).validateStack as Function;
      validate({ resources: resources.map(asArgs), getConfig }, (m: string) => out.push(`${p.name}: ${m}`));
    }
  }
  return out;
}

const fleets: [string, DesiredFleet][] = [
  ["burst", { ...EMPTY_DESIRED, burst: { vms: [vm(1), vm(2)] } }],
  ["pool on GCP", { ...EMPTY_DESIRED, pool: gcpPool }],
  ["pool on AWS", { ...EMPTY_DESIRED, pool: awsPool }],
  ["pool on AWS, on-demand fallback", { ...EMPTY_DESIRED, pool: { ...awsPool, market: "on-demand", hourUsd: 0.192 } }],
  ["standby on GCP", { ...EMPTY_DESIRED, standby: { pairs: [gcpPair] } }],
  ["standby on Vast", { ...EMPTY_DESIRED, standby: { pairs: [vastPair] } }],
  ["a lost GPU's standby", { ...EMPTY_DESIRED, standby: { pairs: [{ ...gcpPair, pairId: "l", state: "gpu-lost", gpu: null }] } }],
  ["hpc", { ...EMPTY_DESIRED, hpc }],
  ["all four areas at once", { ...EMPTY_DESIRED, burst: { vms: [vm(3)] }, pool: gcpPool, standby: { pairs: [gcpPair, vastPair] }, hpc }],
];

for (const [what, desired] of fleets) {
  test(`a fleet the policy allows (${what}): no mandatory violation over what the components declare`, async () => {
    const resources = await declared(desired);
    assert.ok(resources.length > 0);
    assert.deepEqual(violations(resources), []);
  });
}

// Issue 19, item 6: the components put every GCP VM on `default` with a public address.
test("what the components declare on GCP: one network of Fleet's, a public address on the standby only", async () => {
  const all = await declared({ ...EMPTY_DESIRED, burst: { vms: [vm(4)] }, pool: gcpPool, standby: { pairs: [{ ...gcpPair, pairId: "n" }] } });
  const nets = all.filter((r) => r.type === "gcp:compute/network:Network");
  assert.equal(nets.length, 1);
  const vms = all.filter((r) => r.type === "gcp:compute/instance:Instance");
  assert.equal(vms.length, 3);
  for (const v of vms) {
    const nic = v.inputs.networkInterfaces[0];
    assert.match(nic.network, /\/networks\/fleet-net-[0-9a-f]{10}$/, v.name);
    assert.equal(Boolean(nic.accessConfigs?.length), v.inputs.labels["fleet-area"] === "standby", v.name);
  }
  // Cloud NAT where burst and pool VMs run; the standby's region needs none.
  const natRegions = all.filter((r) => r.type === "gcp:compute/routerNat:RouterNat").map((r) => r.inputs.region).sort();
  assert.deepEqual(natRegions, ["us-central1", "us-east1"]);
  // And the pack flags a VM moved back to `default` or given a public address.
  const moved = vms.map((v) => ({ ...v, inputs: { ...v.inputs, networkInterfaces: [{ network: "default", accessConfigs: [{}] }] } }));
  const v = violations(moved);
  assert.equal(v.filter((m) => /is not Fleet's/.test(m)).length, 3, v.join("\n"));
  assert.equal(v.filter((m) => /has a public address/.test(m)).length, 2, v.join("\n"));
});

test("no GCP VM declared: no network either (a stack of Vast, AWS or hpc makes no GCP call)", async () => {
  for (const desired of [{ ...EMPTY_DESIRED, pool: awsPool }, { ...EMPTY_DESIRED, standby: { pairs: [vastPair] } }, { ...EMPTY_DESIRED, hpc }])
    assert.deepEqual((await declared(desired)).filter((r) => r.type.startsWith("gcp:")), []);
});

test("a GPU above the hourly limit: fleet-max-hourly-price flags the Vast GPU by its price", async () => {
  const resources = await declared({ ...EMPTY_DESIRED, standby: { pairs: [{ ...vastPair, pairId: "x", gpu: gpu(2.5) }] } });
  const v = violations(resources);
  assert.ok(v.some((m) => /^fleet-max-hourly-price on pair-x-gpu: VM costs \$2\.5\/h/.test(m)), v.join("\n"));
});

test("eleven burst VMs: fleet-max-vms-per-area flags the burst area", async () => {
  const resources = await declared({ ...EMPTY_DESIRED, burst: { vms: Array.from({ length: 11 }, (_, i) => vm(i + 10)) } });
  assert.ok(violations(resources).some((m) => m === "fleet-max-vms-per-area: 11 VMs in area burst, above the limit of 10"));
});

test("a fleet above the hourly cap: fleet-hourly-cap counts every VM, Vast ones included", async () => {
  const pairs = [1, 2, 3].map((i) => ({ ...vastPair, pairId: `c${i}`, gpu: gpu(1.9) }));
  const resources = await declared({ ...EMPTY_DESIRED, standby: { pairs } });
  assert.ok(violations(resources).some((m) => /^fleet-hourly-cap: the fleet costs \$5\.85\/h, above the cap of \$5\/h/.test(m)), violations(resources).join("\n"));
});
