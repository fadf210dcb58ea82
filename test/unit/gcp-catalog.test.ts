import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GcpCloud } from "../doubles/gcp-cloud";
import { GcpCatalogPriceSource } from "../../reconciler/signals/prices-gcp-catalog";
import { runFleetAsync, tempProject } from "../helpers";

/**
 * Live GCP prices from the Cloud Billing Catalog (reconciler/signals/prices-gcp-catalog.ts) against
 * the GCP double, which routes services.skus.list by cloudbilling.v1's discovery document and pages
 * it as documented. SKUs are cloudbilling.v1 `Sku` objects; their descriptions follow Compute
 * Engine's SKU naming ("Spot Preemptible E2 Instance Core running in Americas"); the E2 on-demand
 * rates are the published us-central1 ones (4 x 0.021811 + 16 x 0.002923 = the bundled file's
 * e2-standard-4 on-demand price, 0.134012 $/h).
 */
const cloud = new GcpCloud("fleet-catalog-test");
let base = "";
const H = 3_600_000;

let nextSku = 1;
function sku(
  description: string,
  usageType: string,
  regions: string[],
  unit: "h" | "GiBy.h",
  usd: number,
  family = "Compute",
) {
  const id = `F${String(nextSku++).padStart(3, "0")}-0000-0000`;
  const units = Math.floor(usd);
  return {
    name: `services/6F81-5844-456A/skus/${id}`,
    skuId: id,
    description,
    category: {
      serviceDisplayName: "Compute Engine",
      resourceFamily: family,
      resourceGroup: unit === "h" ? "CPU" : "RAM",
      usageType,
    },
    serviceRegions: regions,
    pricingInfo: [
      {
        effectiveTime: "2026-11-30T08:00:00Z",
        pricingExpression: {
          usageUnit: unit,
          usageUnitDescription: unit === "h" ? "hour" : "gibibyte hour",
          baseUnit: unit === "h" ? "s" : "By.s",
          baseUnitConversionFactor: unit === "h" ? 3600 : 3865470566400,
          displayQuantity: 1,
          tieredRates: [
            {
              startUsageAmount: 0,
              unitPrice: { currencyCode: "USD", units: String(units), nanos: Math.round((usd - units) * 1e9) },
            },
          ],
        },
        currencyConversionRate: 1,
      },
    ],
    serviceProviderName: "Google",
  };
}

const SKUS = [
  sku("E2 Instance Core running in Americas", "OnDemand", ["us-central1", "us-east1"], "h", 0.021811),
  sku("E2 Instance Ram running in Americas", "OnDemand", ["us-central1", "us-east1"], "GiBy.h", 0.002923),
  sku(
    "Spot Preemptible E2 Instance Core running in Americas",
    "Preemptible",
    ["us-central1", "us-east1"],
    "h",
    0.006543,
  ),
  sku(
    "Spot Preemptible E2 Instance Ram running in Americas",
    "Preemptible",
    ["us-central1", "us-east1"],
    "GiBy.h",
    0.000877,
  ),
  // Not machine-type prices: custom shapes, commitments, accelerators, a family with only a core rate.
  sku("E2 Custom Instance Core running in Americas", "OnDemand", ["us-central1"], "h", 0.5),
  sku("Commitment v1: E2 Cpu in Americas for 1 Year", "Commit1Yr", ["us-central1"], "h", 0.013),
  sku("Nvidia Tesla T4 GPU running in Americas", "OnDemand", ["us-central1"], "h", 0.35, "Compute"),
  sku("N2 Instance Core running in Americas", "OnDemand", ["us-central1"], "h", 0.031611),
  // Filler in another resource family, enough to need a second page (5000 a page).
  ...Array.from({ length: 5050 }, (_, i) =>
    sku(`Network Internet Egress from Region ${i}`, "OnDemand", ["us-central1"], "h", 0.12, "Network"),
  ),
];
const shapes = () => [
  { machineType: "e2-standard-4", vcpu: 4, ramGb: 16 },
  { machineType: "e2-micro", vcpu: 2, ramGb: 1 },
  { machineType: "n2-standard-8", vcpu: 8, ramGb: 32 },
  { machineType: "a2-highgpu-1g", vcpu: 12, ramGb: 85, gpus: 1 },
];

before(async () => {
  base = await cloud.start();
  cloud.skus = SKUS;
});
after(() => cloud.stop());

test("catalog prices: machine types priced from core and RAM SKUs per region, every page read, cached a day, refetched after", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-catalog-"));
  let now = Date.parse("2026-12-02T10:00:00Z");
  const refreshErrors: unknown[] = [];
  /** A source on the double with this token and cache file, on the test's clock. */
  const sourceWith = (token: string, cache: string) =>
    new GcpCatalogPriceSource({
      base: `${base}billing/`,
      auth: { project: "-", token },
      cacheFile: path.join(dir, cache),
      shapes,
      now: () => now,
      onRefreshError: (e) => refreshErrors.push(e),
    });
  const source = sourceWith(cloud.token, "gcp-catalog.json");
  const listCalls = () => cloud.calls.filter((c) => c.id === "cloudbilling.services.skus.list").length;
  const prices = await source.prices();
  assert.equal(listCalls(), 2, "two pages");
  assert.deepEqual(
    prices.map((p) => `${p.region} ${p.machineType} ${p.spotHourUsd} ${p.onDemandHourUsd}`).sort(),
    ["us-central1 e2-standard-4 0.040204 0.134012", "us-east1 e2-standard-4 0.040204 0.134012"],
    "e2-micro (shared core), n2 (no RAM rate) and a2 (GPUs priced apart) are left out",
  );
  assert.equal(prices[0]!.at, "2026-12-02T10:00:00.000Z");
  assert.match(source.describe(), /GCP Cloud Billing Catalog, fetched 2026-12-02T10:00:00.000Z \(0\.0 h old\)/);
  assert.equal((fs.statSync(path.join(dir, "gcp-catalog.json")).mode & 0o777).toString(8), "600");
  now += 23 * H;
  await source.prices();
  assert.equal(listCalls(), 2, "within a day: the cache");
  now += 2 * H;
  await source.prices();
  assert.equal(listCalls(), 4, "over a day: fetched again");
  // The catalog refusing (an expired credential) keeps the cached prices, said, not silent.
  now += 25 * H;
  const stale = sourceWith("expired", "gcp-catalog.json");
  assert.equal((await stale.prices())[0]!.at, "2026-12-03T11:00:00.000Z");
  assert.match(String(refreshErrors[0]), /401/);
  // No cache and no answer: the error surfaces (the cycle fails closed).
  const none = sourceWith("expired", "none.json");
  await assert.rejects(none.prices(), /401/);
});

test("fleet plan with signals.gcpPriceSource catalog: priced from the catalog, and the plan says so", async () => {
  const dir = tempProject(`config:
  gcp:project: fleet-catalog-test
  fleet:policy:
    owner: fleet
    journal: { path: journal.db }
    signals: { gcpPriceSource: catalog, pricesFile: ${JSON.stringify(path.resolve(__dirname, "..", "..", "data", "gcp-spot-sample.csv.gz"))} }
`);
  const env = {
    GOOGLE_OAUTH_ACCESS_TOKEN: cloud.token,
    HOME: dir,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBILLING: `${base}billing/`,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${base}compute/v1/`,
  };
  const r = await runFleetAsync(["--stack", "test", "plan", "--json"], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.match(
    plan.pricesFrom,
    /^GCP Cloud Billing Catalog, fetched \S+ \(0\.0 h old\), cached in .*\.fleet\/prices\/gcp-catalog\.json$/,
  );
  // Without credentials there are no prices: the plan stops (exit 1) naming the setting, no trace.
  const bare = await runFleetAsync(["--stack", "test", "plan"], {
    cwd: tempProject(fs.readFileSync(path.join(dir, "Pulumi.test.yaml"), "utf8")),
    env: { HOME: dir },
  });
  assert.equal(bare.code, 1, bare.stderr);
  assert.match(bare.stderr, /^fleet: signals\.gcpPriceSource is catalog, which needs GCP credentials/);
  assert.doesNotMatch(bare.stderr, /\n\s+at /);
});
