import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { DESIRED_OUTPUT } from "../reconciler/config/applied";
import { validateFleetConfig } from "../reconciler/config/load";
import { DesiredFleetSchema, type DesiredFleet, type FleetPolicy } from "../reconciler/model";
import { BurstPool } from "./burst";
import { HpcCluster } from "./hpc";
import { FleetNetwork } from "./network";
import { regionOfZone } from "../reconciler/model/network";
import { poolGcpZone } from "../reconciler/pool-naming";
import { SpotPool } from "./pool";
import { StandbyPair } from "./standby";

/**
 * Reads and validates `fleet:policy` and the desired fleet (FLEET_* overrides apply, as in the CLI).
 * The desired fleet is, in order: FLEET_DESIRED_FILE (the reconciler's candidate, for a preview or an
 * update), else the fleet this stack's last update applied (`applied`: its `fleetDesired` output,
 * reconciler/config/applied.ts), else `fleet:desired` from the stack's config (the first update).
 */
export function readFleetConfig(env: NodeJS.ProcessEnv = process.env, applied?: string): { policy: FleetPolicy; desired: DesiredFleet } {
  const cfg = new pulumi.Config("fleet");
  const rawDesired = env.FLEET_DESIRED_FILE
    ? JSON.parse(fs.readFileSync(env.FLEET_DESIRED_FILE, "utf8"))
    : applied !== undefined
      ? JSON.parse(applied)
      : cfg.getObject("desired");
  return validateFleetConfig({ label: `stack ${pulumi.getStack()}`, rawPolicy: cfg.getObject("policy"), rawDesired, env, what: "fleet stack configuration" });
}

/**
 * The desired fleet this stack's last update applied (its own output), or undefined before the first.
 * The reference is made on every run, with a candidate too, so every update and every preview declare
 * the same resources (the reference and its provider): a preview never shows it as a change.
 */
export async function lastAppliedDesired(): Promise<string | undefined> {
  const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
  const out = await self.getOutputDetails(DESIRED_OUTPUT);
  const value = out.value ?? out.secretValue;
  return typeof value === "string" ? value : undefined;
}

/** The applied fleet to export instead of the declared one (validated), when the reconciler asks. */
export function recordedDesired(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.FLEET_RECORDED_DESIRED_FILE) return undefined;
  return JSON.stringify(DesiredFleetSchema.parse(JSON.parse(fs.readFileSync(env.FLEET_RECORDED_DESIRED_FILE, "utf8"))));
}

/** Declares one component per area from the desired fleet. */
export function defineFleet(desired: DesiredFleet, policy: FleetPolicy) {
  const network = defineNetwork(desired);
  const burst = new BurstPool("burst", { vms: desired.burst.vms, owner: policy.owner, policy: policy.burst, network });
  const hpc = desired.hpc ? new HpcCluster(desired.hpc.name, { spec: desired.hpc }) : undefined;
  const pool = desired.pool ? new SpotPool("pool", { pool: desired.pool, owner: policy.owner, policy: policy.pool, network }) : undefined;
  const standby = desired.standby.pairs.map(
    (pair) => new StandbyPair(`pair-${pair.pairId}`, { pair, owner: policy.owner, policy: policy.standby, network }),
  );
  return { network, burst, hpc, pool, standby };
}

/**
 * Fleet's network, while any GCP VM is declared (none: no network, no GCP calls). Cloud NAT in each
 * region that holds a burst or GCP pool VM: those have no public address.
 */
function defineNetwork(desired: DesiredFleet): FleetNetwork | undefined {
  const natZones = desired.burst.vms.map((vm) => vm.zone);
  if (desired.pool?.provider === "gcp") natZones.push(poolGcpZone(desired.pool));
  const gcpStandby = desired.standby.pairs.some((p) => p.standby.target === "gcp");
  if (natZones.length === 0 && !gcpStandby) return undefined;
  return new FleetNetwork("fleet", { natRegions: natZones.map(regionOfZone) });
}
