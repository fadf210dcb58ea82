import type { DesiredFleet } from "../model";
import { parseVastLabel } from "../standby/observe";

/** A resource found in a cloud or on Vast.ai that carries fleet's marks (labels, tags, or a Vast label). */
export interface FoundResource {
  provider: "gcp" | "aws" | "vast";
  kind: string;
  id: string;
  name: string;
  /** Zone, region or Vast location. */
  location: string;
  labels: Record<string, string>;
}

export interface KnownStack {
  stack: string;
  desired: DesiredFleet;
}

export interface Orphan {
  resource: FoundResource;
  why: string;
}

import { toLabelValue as labelValue } from "../model/labels";
export { labelValue };

/** Why no stack knows this resource, or null when one does. */
function unknownBecause(r: FoundResource, stacks: readonly KnownStack[]): string | null {
  const stackLabel = r.labels["fleet-stack"];
  const candidates = stackLabel ? stacks.filter((s) => labelValue(s.stack) === stackLabel) : stacks;
  if (stackLabel && !candidates.length) return `its stack '${stackLabel}' is not a stack of this project`;
  const where = stackLabel ? `stack ${candidates[0]!.stack}` : "any stack";
  if (r.provider === "vast") {
    const parsed = parseVastLabel(r.labels.label ?? null);
    const pair = candidates.flatMap((s) => s.desired.standby.pairs).find((p) => p.pairId === parsed?.pairId);
    if (!parsed || !pair) return `no pair '${parsed?.pairId ?? "?"}' in ${where}`;
    if (parsed.role === "standby") return pair.standby.target === "vast" ? null : `pair '${pair.pairId}' keeps its standby on GCP: this Vast standby is not wanted`;
    return pair.state === "gpu-lost" ? `pair '${pair.pairId}' is gpu-lost: its GPU is not wanted` : null;
  }
  switch (r.labels["fleet-area"]) {
    case "burst":
      return candidates.some((s) => s.desired.burst.vms.some((v) => v.name === r.name)) ? null : `burst VM ${r.name} is in no desired fleet of ${where}`;
    case "standby": {
      const pairId = r.labels["fleet-pair"];
      return candidates.some((s) => s.desired.standby.pairs.some((p) => p.pairId === pairId)) ? null : `no pair '${pairId ?? "?"}' in ${where}`;
    }
    case "pool":
      return candidates.some((s) => s.desired.pool?.provider === r.provider && r.location.startsWith(s.desired.pool.region)) ? null : `no ${r.provider} pool in ${r.location} in ${where}`;
    default:
      return `unknown fleet-area '${r.labels["fleet-area"] ?? ""}'`;
  }
}

/**
 * The resources no stack knows (pure): marked managed-by=fleet (or a fleet-pair Vast label) but in
 * no desired fleet of the project's stacks. A resource labelled with its stack is checked against
 * that stack only.
 */
export function findOrphans(resources: readonly FoundResource[], stacks: readonly KnownStack[]): Orphan[] {
  return resources.flatMap((resource) => {
    const why = unknownBecause(resource, stacks);
    return why ? [{ resource, why }] : [];
  });
}
