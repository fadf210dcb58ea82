// The Pulumi program: `pulumi up` from CI and the reconciler's Automation API stacks both run this.
// Its desired fleet: the reconciler's candidate, else what this stack last applied (one source of
// truth in the backend), else fleet:desired for the first update (stacks/fleet.ts readFleetConfig).
import { DESIRED_OUTPUT } from "../reconciler/config/applied";
import { defineFleet, lastAppliedDesired, readFleetConfig, recordedDesired } from "./fleet";

export = (async () => {
  const { policy, desired } = readFleetConfig(process.env, await lastAppliedDesired());
  const fleet = defineFleet(desired, policy);
  return {
    burstVmNames: fleet.burst.vmNames,
    burstServiceAccount: fleet.burst.serviceAccountEmail,
    ...(fleet.hpc ? { hpcNodes: fleet.hpc.nodes } : {}),
    ...(fleet.pool ? { poolInstanceId: fleet.pool.instanceId, poolInterruptionQueueUrl: fleet.pool.interruptionQueueUrl } : {}),
    // What this update applies: the next update, CI and a plain `pulumi up` start from it.
    // (FLEET_RECORDED_DESIRED_FILE: the reconciler records a failed update's fleet back as the one
    // before it, declaring the same resources; reconciler/apply/automation.ts recordApplied.)
    [DESIRED_OUTPUT]: recordedDesired(process.env) ?? JSON.stringify(desired),
  };
})();
