import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import * as rules from "./rules";

/**
 * The policies, each a data object with its config schema. index.ts puts them in a PolicyPack;
 * tests call their validators directly. Defaults can be changed per stack in the policy pack config
 * (`pulumi preview --policy-pack policies --policy-pack-config cfg.json`).
 */

const res = (args: { type: string; props: Record<string, any>; urn?: string }): rules.Resource => ({ type: args.type, props: args.props, urn: args.urn });

export const spotOnly: ResourceValidationPolicy = {
  name: "fleet-spot-only",
  description: "Fleet VMs are Spot unless the desired state marks an on-demand fallback.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => rules.spotOnlyViolations(res(args)).forEach((v) => report(v)),
};

export const maxHourlyPrice: ResourceValidationPolicy = {
  name: "fleet-max-hourly-price",
  description: "No fleet VM costs more per hour than the configured limit.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxHourlyUsd: { type: "number", minimum: 0, default: 2 } } },
  validateResource: (args, report) => {
    const { maxHourlyUsd } = args.getConfig<{ maxHourlyUsd: number }>();
    rules.maxHourlyPriceViolations(res(args), maxHourlyUsd).forEach((v) => report(v));
  },
};

export const requiredLabels: ResourceValidationPolicy = {
  name: "fleet-required-labels",
  description: `Fleet VMs, launch templates and disks carry the labels/tags ${rules.REQUIRED_LABELS.join(", ")}.`,
  enforcementLevel: "mandatory",
  validateResource: (args, report) => rules.requiredLabelViolations(res(args)).forEach((v) => report(v)),
};

export const noSshFromWorld: ResourceValidationPolicy = {
  name: "fleet-no-ssh-from-world",
  description: "No firewall rule or security group opens SSH to 0.0.0.0/0.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) => rules.sshOpenToWorldViolations(res(args)).forEach((v) => report(v)),
};

export const safeByDefault: ResourceValidationPolicy = {
  name: "fleet-safe-by-default",
  description:
    "GCP VMs are Shielded VMs with OS Login and no project-wide ssh keys, on Fleet's own network, public only for a standby; " +
    "AWS volumes are encrypted, in a security group of Fleet's.",
  enforcementLevel: "mandatory",
  validateResource: (args, report) =>
    [
      ...rules.gcpHardeningViolations(res(args)),
      ...rules.gcpNetworkViolations(res(args)),
      ...rules.awsHardeningViolations(res(args)),
    ].forEach((v) => report(v)),
};

export const maxVmsPerArea: StackValidationPolicy = {
  name: "fleet-max-vms-per-area",
  description: "Each area stays within its number of VMs.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxPerArea: {
        type: "object",
        default: { burst: 10, pool: 2, standby: 20, hpc: 65 },
        additionalProperties: { type: "integer", minimum: 0 },
      },
    },
  },
  validateStack: (args, report) => {
    const { maxPerArea } = args.getConfig<{ maxPerArea: Record<string, number> }>();
    rules.maxVmsPerAreaViolations(args.resources.map(res), maxPerArea).forEach((v) => report(v));
  },
};

export const fleetHourlyCap: StackValidationPolicy = {
  name: "fleet-hourly-cap",
  description: "The summed hourly price of all fleet VMs stays under the cap.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { maxFleetHourlyUsd: { type: "number", minimum: 0, default: 5 } } },
  validateStack: (args, report) => {
    const { maxFleetHourlyUsd } = args.getConfig<{ maxFleetHourlyUsd: number }>();
    rules.fleetHourlyCapViolations(args.resources.map(res), maxFleetHourlyUsd).forEach((v) => report(v));
  },
};

export const ALL_POLICIES = [spotOnly, maxHourlyPrice, requiredLabels, noSshFromWorld, safeByDefault, maxVmsPerArea, fleetHourlyCap];
