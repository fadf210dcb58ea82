import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { validateFleetConfig } from "../reconciler/config/load";
import type { DesiredFleet, FleetPolicy } from "../reconciler/model";
import { BurstPool } from "./burst";
import { HpcCluster } from "./hpc";
import { SpotPool } from "./pool";
import { StandbyPair } from "./standby";

/**
 * Reads and validates `fleet:policy` and `fleet:desired` (FLEET_* overrides apply, as in the CLI).
 * FLEET_DESIRED_FILE, when set, supplies the desired fleet instead: the reconciler previews a
 * candidate this way without writing it to the stack's config.
 */
export function readFleetConfig(env: NodeJS.ProcessEnv = process.env): { policy: FleetPolicy; desired: DesiredFleet } {
  const cfg = new pulumi.Config("fleet");
  const rawDesired = env.FLEET_DESIRED_FILE ? JSON.parse(fs.readFileSync(env.FLEET_DESIRED_FILE, "utf8")) : cfg.getObject("desired");
  return validateFleetConfig({ label: `stack ${pulumi.getStack()}`, rawPolicy: cfg.getObject("policy"), rawDesired, env, what: "fleet stack configuration" });
}

/** Declares one component per area from the desired fleet. */
export function defineFleet(desired: DesiredFleet, policy: FleetPolicy) {
  const burst = new BurstPool("burst", { vms: desired.burst.vms, owner: policy.owner, policy: policy.burst });
  const hpc = desired.hpc ? new HpcCluster(desired.hpc.name, { spec: desired.hpc }) : undefined;
  const pool = desired.pool ? new SpotPool("pool", { pool: desired.pool, owner: policy.owner, policy: policy.pool }) : undefined;
  const standby = desired.standby.pairs.map((pair) => new StandbyPair(`pair-${pair.pairId}`, { pair, owner: policy.owner, policy: policy.standby }));
  return { burst, hpc, pool, standby };
}
