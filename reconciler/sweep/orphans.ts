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
  /** A standby's data (its disk, a Vast standby): deleted only when asked explicitly. */
  holdsData?: boolean;
}

import { toLabelValue as labelValue } from "../model/labels";
export { labelValue };

/**
 * Why this project cannot claim the resource, or null when it can: sweep touches only what carries
 * this project's identity, a `fleet-stack` label naming one of its stacks (GCP, AWS), or a Vast label
 * naming one of its pairs. Anything else may be another checkout's or project's on the same account.
 */
function notOursBecause(r: FoundResource, stacks: readonly KnownStack[]): string | null {
  if (r.provider === "vast") {
    const parsed = parseVastLabel(r.labels.label ?? null);
    if (!parsed || !stacks.some((s) => s.desired.standby.pairs.some((p) => p.pairId === parsed.pairId))) {
      return `no pair '${parsed?.pairId ?? "?"}' in this project, and a Vast label carries no project identity (another checkout's?)`;
    }
    return null;
  }
  const stackLabel = r.labels["fleet-stack"];
  if (!stackLabel) return "no fleet-stack label: no project identity";
  if (!stacks.some((s) => labelValue(s.stack) === stackLabel)) return `its stack '${stackLabel}' is not a stack of this project`;
  return null;
}

/** Why no stack of this project knows a resource it can claim, or null when one does. */
function unknownBecause(r: FoundResource, stacks: readonly KnownStack[]): string | null {
  const stackLabel = r.labels["fleet-stack"];
  const candidates = stackLabel ? stacks.filter((s) => labelValue(s.stack) === stackLabel) : stacks;
  const where = stackLabel ? `stack ${candidates[0]!.stack}` : "any stack";
  if (r.provider === "vast") {
    const parsed = parseVastLabel(r.labels.label ?? null)!;
    const pair = candidates.flatMap((s) => s.desired.standby.pairs).find((p) => p.pairId === parsed.pairId)!;
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

/** A standby's data: the GCP data disk, or a Vast standby instance (its disk holds the copy). */
function holdsData(r: FoundResource): boolean {
  if (r.provider === "vast") return parseVastLabel(r.labels.label ?? null)?.role === "standby";
  return r.kind === "disk" && r.labels["fleet-area"] === "standby";
}

/**
 * Sweep's view (pure): `orphans`, resources of this project (see notOursBecause) that no desired fleet
 * of its stacks knows, each with why and whether it holds a standby's data; `leftAlone`, resources
 * marked as fleet's that this project cannot claim, never deleted.
 */
export function sweepPlan(resources: readonly FoundResource[], stacks: readonly KnownStack[]): { orphans: Orphan[]; leftAlone: Orphan[] } {
  const orphans: Orphan[] = [];
  const leftAlone: Orphan[] = [];
  for (const resource of resources) {
    const foreign = notOursBecause(resource, stacks);
    if (foreign) {
      leftAlone.push({ resource, why: foreign });
      continue;
    }
    const why = unknownBecause(resource, stacks);
    if (why) orphans.push({ resource, why, ...(holdsData(resource) ? { holdsData: true } : {}) });
  }
  return { orphans, leftAlone };
}
