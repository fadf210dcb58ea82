import { nodeNames } from "../hpc/layout";
import type { Decision, HpcPolicy, HpcSpec, Signals } from "../model";

export interface HpcOutcome {
  desired: HpcSpec | null;
  decisions: Decision[];
}

/**
 * The hpc decision (pure): keep the cluster as desired; report nodes that differ from it (destroyed
 * or stopped by hand) as drift the apply restores; scale compute between min and max from the queue.
 */
export function decideHpc(spec: HpcSpec | null, signals: Pick<Signals, "actual" | "queue">, policy: HpcPolicy): HpcOutcome {
  const decisions: Decision[] = [];
  const d = (kind: Decision["kind"], reason: string, from: unknown, to: unknown) => decisions.push({ area: "hpc", kind, reason, from, to });
  if (!spec) {
    d("noop", "no hpc cluster in the desired fleet", null, null);
    return { desired: null, decisions };
  }

  let desired = spec;
  const c = spec.compute;
  const scaling = policy.queueCommand !== null && c.min !== undefined && c.max !== undefined;
  if (scaling) {
    if (signals.queue === null) {
      d("noop", `queue length unknown (hpc.queueCommand gave nothing usable): compute stays at ${c.count}`, c.count, c.count);
    } else {
      const pending = signals.queue.pendingJobs;
      const target = Math.min(c.max!, Math.max(c.min!, Math.ceil(pending / policy.jobsPerNode)));
      if (target !== c.count) {
        d("scale", `${pending} pending jobs / ${policy.jobsPerNode} per node -> ${target} (min ${c.min}, max ${c.max}): compute ${c.count} -> ${target}`, c.count, target);
        desired = { ...spec, compute: { ...c, count: target } };
      }
    }
  }

  // Drift: what libvirt shows against what the (possibly rescaled) spec wants.
  const observed = signals.actual.hpc;
  if (observed === null) {
    d("noop", `cluster ${spec.name} could not be read: no drift decision this cycle`, null, null);
  } else {
    const want = spec.running ? "running" : "shut off";
    const seen = new Map(observed.nodes.map((n) => [n.name, n.state]));
    const drift = nodeNames(spec.name, c.count)
      .map((name) => ({ name, state: seen.get(name) ?? "missing" }))
      .filter((n) => n.state !== want);
    if (drift.length) {
      d("keep", `cluster ${spec.name} drifted: ${drift.map((n) => `${n.name} ${n.state}`).join(", ")}; desired ${want}: the apply restores it`, Object.fromEntries(drift.map((n) => [n.name, n.state])), want);
    }
  }
  if (!decisions.length) d("noop", `cluster ${spec.name}: ${c.count + 1} nodes ${spec.running ? "running" : "shut off"} as desired`, c.count, c.count);
  return { desired, decisions };
}
