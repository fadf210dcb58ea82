// What the cloud-area engine tests share: the test provider plugins on PATH (./plugins/bin), a GCP
// double the gcp plugin and Fleet's own readers both talk to, a fresh price file, and a stack file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { GcpCloud } from "../doubles/gcp-cloud";
import { REPO } from "../helpers";
import assert from "node:assert/strict";
import { engineEnv, fleet, type CliResult } from "./harness";

export const PLUGINS_BIN = path.join(REPO, "test", "engine", "plugins", "bin");

export interface CloudStack {
  stack: string;
  dir: string;
  env: Record<string, string>;
  gcp: GcpCloud;
  stateDir: string;
  /** Runs `fleet --stack <stack> ...args` and asserts its exit code (unless "any"). */
  run(args: string[], expect?: number | "any"): Promise<CliResult>;
  /** Writes Pulumi.<stack>.yaml with this policy (journal and prices in the scratch directory) and extra config. */
  writeStack(policy: Record<string, unknown>, extra?: Record<string, unknown>): void;
  cleanup(): Promise<void>;
}

/** One scratch stack wired to a started GCP double and the plugins. */
export async function cloudStack(name: string, spotHourUsd = 0.053584): Promise<CloudStack> {
  const gcp = new GcpCloud();
  const url = await gcp.start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-${name}-`));
  const stack = `${name}-${process.pid}`;
  const stackFile = path.join(REPO, `Pulumi.${stack}.yaml`);
  // A price observed now, so the freshness check passes (the bundled sample is from 2025).
  const prices = path.join(dir, "prices.csv.gz");
  const now = new Date().toISOString().slice(0, 19) + "Z";
  fs.writeFileSync(prices, gzipSync(`week_start_utc,machine_type,region,vcpu,ram_gb,gpu,gpu_count,on_demand_hour,spot_hour\n${now},e2-standard-4,us-central1,4,16,,,0.13402284,${spotHourUsd}\n`));
  const { env: engine, stateDir } = engineEnv();
  const env: Record<string, string> = {
    ...engine,
    PATH: `${PLUGINS_BIN}:${process.env.PATH}`,
    FLEET_TEST_NODE: process.execPath,
    FLEET_TEST_GCP_URL: url,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${url}compute/v1/`,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING: `${url}monitoring/`,
    GOOGLE_OAUTH_ACCESS_TOKEN: gcp.token,
    GOOGLE_PROJECT: gcp.project,
  };
  return {
    stack,
    dir,
    env,
    gcp,
    stateDir,
    async run(args, expect = 0) {
      const r = await fleet(["--stack", stack, ...args], env);
      if (expect !== "any") assert.equal(r.code, expect, `fleet ${args.join(" ")} -> ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r;
    },
    writeStack(policy, extra = {}) {
      const full = { journal: { path: path.join(dir, "journal.db") }, ...policy, signals: { pricesFile: prices, ...((policy.signals as object) ?? {}) } };
      fs.writeFileSync(stackFile, stringify({ config: { "gcp:project": gcp.project, "gcp:region": "us-central1", "fleet:policy": full, ...extra } }));
    },
    async cleanup() {
      await gcp.stop();
      fs.rmSync(stackFile, { force: true });
      fs.rmSync(path.join(REPO, ".fleet", "applied", `${stack}.json`), { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
