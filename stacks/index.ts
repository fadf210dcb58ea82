// The Pulumi program: `pulumi up` from CI and the reconciler's Automation API stacks both run this.
import { defineFleet, readFleetConfig } from "./fleet";

const { policy, desired } = readFleetConfig();
const fleet = defineFleet(desired, policy);

export const burstVmNames = fleet.burst.vmNames;
export const burstServiceAccount = fleet.burst.serviceAccountEmail;
export const hpcNodes = fleet.hpc?.nodes;
export const poolInstanceId = fleet.pool?.instanceId;
export const poolInterruptionQueueUrl = fleet.pool?.interruptionQueueUrl;
