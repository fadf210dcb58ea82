import * as pulumi from "@pulumi/pulumi";
import { VastClient } from "../../reconciler/vast/client";
import { pairLabel, standbyLabel } from "../../reconciler/standby/observe";

/**
 * Dynamic provider for a Vast.ai instance: a pair's GPU, or its standby (standby.target vast). The API
 * key comes from VAST_API_KEY at run time and is never an input, an output or part of the state.
 * Create rents exactly the given offer (an offer that is gone is an error: nothing else is picked) and
 * labels the instance with its pair and role; a create that finds another instance of the same pair
 * and role (a racing create won) destroys its own and reports it.
 *
 * A GPU that stopped is replaced (the offer rented again: its work is on the standby). A standby that
 * stopped is started again instead: its disk holds the only copy, so it is never replaced for that.
 */

export interface VastInstanceInputs {
  offerId: number;
  pairId: string;
  image: string;
  diskGb: number;
  onstart: string;
  /**
   * The instance's environment (Vast's `env`: the API's field for secrets, such as the SSH host key
   * Fleet made for it). A secret; never printed. Vast cannot change it later: a change replaces.
   */
  env?: Record<string, string>;
  /** gpu (default) or standby: the label, and what a stopped instance gets (replace or start). */
  role?: "gpu" | "standby";
  /** Optional base URL (tests, proxies); default VAST_API_URL or the public API. */
  apiUrl?: string;
  /**
   * Fleet's label contract (reconciler/model/labels.ts) for the policy pack: area, owner, price per
   * hour. Not sent to Vast (its one label field holds the pair label) and never a reason to replace.
   */
  labels?: Record<string, string>;
  /** How long create waits for the new instance to run with its ssh endpoint and address (default 600 s). */
  bootTimeoutSeconds?: number;
  /** How often create and the offline grace look at Vast (default 5 s). */
  pollSeconds?: number;
}
export interface VastInstanceOutputs extends VastInstanceInputs {
  instanceId: number;
  status: string;
  publicIp: string;
  sshHost: string;
  sshPort: number;
  dphUsd: number;
  label: string;
  /** When a refresh first saw the instance offline; null while it is not. */
  downSince?: string | null;
}

export { pairLabel };

function labelOf(inputs: VastInstanceInputs): string {
  return inputs.role === "standby" ? standbyLabel(inputs.pairId) : pairLabel(inputs.pairId);
}
/**
 * Vast's actual_status values (its OpenAPI spec, "Key Quirks"): null while scheduling, then
 * created/loading, then running. exited and unknown never reach running again; offline may be a
 * host's short outage, so an offline GPU is replaced only after OFFLINE_GRACE_MS.
 */
const NEVER_RUNS = ["exited", "unknown"];
const OFFLINE_GRACE_MS = 10 * 60_000;

/** Whether a GPU in this state must be rented again (a standby is started instead). */
function gpuIsLost(status: string | undefined | null, downSince: string | null | undefined, nowMs: number): boolean {
  if (status === "stopped" || (status && NEVER_RUNS.includes(status))) return true;
  if (status === "offline") return !!downSince && nowMs - Date.parse(downSince) >= OFFLINE_GRACE_MS;
  return false; // running, or on its way: null (scheduling), created, loading
}

/**
 * Waits (bounded) until the new instance runs and has its ssh endpoint and public address: the sync
 * install, the firewall's <ip>/32 and boot setup need them. On a state that never runs, or the time
 * running out, the instance is destroyed (it must not bill off the books) and the create fails.
 */
async function waitUntilRunning(c: VastClient, id: number, inputs: VastInstanceInputs): Promise<VastInstanceSummary> {
  const until = Date.now() + (inputs.bootTimeoutSeconds ?? 600) * 1000;
  const pollMs = (inputs.pollSeconds ?? 5) * 1000;
  let last = "not listed";
  for (;;) {
    const inst = (await c.showInstances()).find((i) => i.id === id);
    if (inst?.status === "running" && inst.sshHost && inst.sshPort && inst.publicIp) return inst;
    last = inst ? `${inst.status ?? "scheduling"}${inst.sshHost ? "" : ", no ssh endpoint yet"}` : "not listed";
    const never = inst?.status && [...NEVER_RUNS, "offline"].includes(inst.status);
    if (never || Date.now() >= until) {
      await c.destroyInstance(id).catch(() => undefined);
      const why = never ? `it became ${inst!.status}, which never reaches running` : `it was still ${last} after ${inputs.bootTimeoutSeconds ?? 600} s`;
      throw new Error(`Vast instance ${id} (offer ${inputs.offerId}) did not start: ${why}; destroyed it so it does not bill`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
type VastInstanceSummary = Awaited<ReturnType<VastClient["showInstances"]>>[number];

function client(apiUrl?: string): VastClient {
  return new VastClient({ apiKey: process.env.VAST_API_KEY ?? "", baseUrl: apiUrl });
}

export const vastInstanceProvider = {
  async create(inputs: VastInstanceInputs): Promise<{ id: string; outs: VastInstanceOutputs }> {
    const c = client(inputs.apiUrl);
    const label = labelOf(inputs);
    const what = inputs.role === "standby" ? "standby" : "GPU";
    const existing = (await c.showInstances()).filter((i) => i.label === label);
    if (existing.length) throw new Error(`pair ${inputs.pairId} already has Vast ${what} instance ${existing.map((i) => i.id).join(", ")}: not renting a second ${what} (import it or destroy it first)`);
    const id = await c.createInstance(inputs.offerId, { image: inputs.image, diskGb: inputs.diskGb, onstart: inputs.onstart, label, env: inputs.env });
    const mine = (await c.showInstances()).filter((i) => i.label === label).sort((a, b) => a.id - b.id);
    if (mine.length > 1) {
      // Another create for this pair won the race: keep the first, give back ours, and say so.
      await c.destroyInstance(id);
      throw new Error(`a racing create for pair ${inputs.pairId} also rented instance ${mine.find((i) => i.id !== id)!.id}; destroyed ours (${id}) so only one bills`);
    }
    const inst = await waitUntilRunning(c, id, inputs);
    const outs = { ...inputs, instanceId: id, status: "running", publicIp: inst.publicIp ?? "", sshHost: inst.sshHost ?? "", sshPort: inst.sshPort ?? 0, dphUsd: inst.dphUsd, label, downSince: null };
    return { id: String(id), outs };
  },
  /** What Vast reports: an instance that vanished reads as gone; a stopped or exited one shows its status. */
  async read(id: string, props: VastInstanceOutputs): Promise<pulumi.dynamic.ReadResult> {
    const inst = (await client(props.apiUrl).showInstances()).find((i) => String(i.id) === id);
    if (!inst) return { id: "", props: {} } as pulumi.dynamic.ReadResult;
    const status = inst.status ?? "created";
    const downSince = status === "offline" ? (props.downSince ?? new Date().toISOString()) : null;
    // While it is away its endpoint may be blank: keep the last one known rather than forget it.
    const endpoint = { publicIp: inst.publicIp || props.publicIp || "", sshHost: inst.sshHost || props.sshHost || "", sshPort: inst.sshPort || props.sshPort || 0 };
    return { id, props: { ...props, status, ...endpoint, dphUsd: inst.dphUsd, downSince } };
  },
  async diff(_id: string, olds: VastInstanceOutputs, news: VastInstanceInputs): Promise<pulumi.dynamic.DiffResult> {
    // Vast cannot change a running instance's onstart or environment. A standby keeps the ones it
    // was made with: replacing it would delete the copy it holds (and if its GPU were replaced in
    // the same update, the only copy), so a new onstart reaches standbys made from then on.
    const keys = news.role === "standby"
      ? (["offerId", "pairId", "image", "diskGb", "role"] as const)
      : (["offerId", "pairId", "image", "diskGb", "onstart", "env", "role"] as const);
    const replaces = keys.filter((k) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null));
    // A stopped standby is started in place (update); a lost GPU is rented again (replace). States
    // on the way to running, and a short offline, change nothing.
    if (news.role === "standby") {
      const stopped = olds.status === "stopped" || olds.status === "exited";
      return { changes: replaces.length > 0 || stopped, replaces, deleteBeforeReplace: true };
    }
    const lost = gpuIsLost(olds.status, olds.downSince, Date.now());
    return { changes: replaces.length > 0 || lost, replaces: lost ? [...replaces, "status"] : replaces, deleteBeforeReplace: true };
  },
  /** Only a stopped standby comes here (every other change replaces): start it; its disk was kept. */
  async update(id: string, olds: VastInstanceOutputs, news: VastInstanceInputs): Promise<pulumi.dynamic.UpdateResult> {
    const c = client(news.apiUrl);
    await c.startInstance(Number(id));
    const inst = (await c.showInstances()).find((i) => String(i.id) === id);
    // The instance keeps the onstart and environment it was made with (Vast cannot change them).
    return { outs: { ...olds, ...news, onstart: olds.onstart, env: olds.env, status: inst?.status ?? "loading", publicIp: inst?.publicIp ?? olds.publicIp, sshHost: inst?.sshHost ?? olds.sshHost, sshPort: inst?.sshPort ?? olds.sshPort } };
  },
  async delete(id: string, props: VastInstanceOutputs): Promise<void> {
    await client(props.apiUrl).destroyInstance(Number(id));
  },
};

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };
export class VastInstance extends pulumi.dynamic.Resource {
  declare readonly publicIp: pulumi.Output<string>;
  declare readonly instanceId: pulumi.Output<number>;
  declare readonly status: pulumi.Output<string>;
  declare readonly sshHost: pulumi.Output<string>;
  declare readonly sshPort: pulumi.Output<number>;
  declare readonly label: pulumi.Output<string>;
  constructor(name: string, args: In<VastInstanceInputs>, opts?: pulumi.CustomResourceOptions) {
    const outputs = { instanceId: undefined, status: undefined, publicIp: undefined, sshHost: undefined, sshPort: undefined, dphUsd: undefined, label: undefined, downSince: undefined };
    // The environment holds the instance's host key: a secret in the state as in the inputs.
    const secret = { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "env"] };
    super(vastInstanceProvider, name, { ...args, ...outputs }, secret, "fleet", "VastInstance");
  }
}
