import { Virsh, isUnreachable } from "../../stacks/providers/libvirt-client";
import { FleetError } from "../errors";
import type { DesiredFleet } from "../model";

/**
 * Before an engine run that refreshes the stack: can this machine reach what the applied fleet
 * holds? A refresh reads every resource, so a CI runner without the libvirt host (hpc) or without
 * the Vast key (standby) would fail half-way through. Say which area and why, before anything runs.
 */
export async function unreachableAreas(desired: DesiredFleet, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const out: string[] = [];
  if (desired.hpc) {
    const uri = desired.hpc.uri;
    try {
      await new Virsh(uri).exec(["version"], 20_000);
    } catch (e) {
      const why = isUnreachable(e) ? "libvirtd does not answer" : e instanceof Error ? e.message.split("\n")[0] : String(e);
      out.push(`hpc: cluster ${desired.hpc.name} lives on the libvirt host at ${uri}, which this machine cannot reach (${why}): run this on that host`);
    }
  }
  if (desired.standby.pairs.length && !env.VAST_API_KEY) {
    out.push(`standby: ${desired.standby.pairs.length} pair(s) rent on Vast.ai and VAST_API_KEY is not set: the refresh reads every Vast instance`);
  }
  return out;
}

export async function assertReachable(desired: DesiredFleet, what: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const problems = await unreachableAreas(desired, env);
  if (problems.length) {
    throw new FleetError(`${what}: this machine cannot refresh the stack, so nothing was run:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}
