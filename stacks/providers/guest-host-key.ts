import * as pulumi from "@pulumi/pulumi";
import { gcpAuthFromEnv, gcpBase, gcpCall, GcpHttpError } from "../../reconciler/gcp/rest";

/**
 * The SSH host key a GCP standby made for itself, read through Compute Engine's authenticated API.
 *
 * The standby generates its host key on its own boot disk (no private key in its metadata) and its
 * startup script publishes the public half as the guest attribute `fleet/host-ed25519` (stacks/
 * templates/standby-startup.sh). This resource waits, bounded, for that attribute
 * (compute.instances.getGuestAttributes) and keeps the key in the state: the GPU pins it. A new VM
 * (another instance id) makes another key, so that replaces this resource and with it the install.
 */
export const HOST_KEY_ATTRIBUTE = { namespace: "fleet", key: "host-ed25519" } as const;

export interface GuestHostKeyInputs {
  project: string;
  zone: string;
  instanceName: string;
  /** The VM's id: a new VM is a new key. */
  instanceId: string;
  /** How long create waits for the VM to publish its key (default 600 s), and how often it looks (5 s). */
  timeoutSeconds?: number;
  pollSeconds?: number;
}
export interface GuestHostKeyOutputs extends GuestHostKeyInputs {
  publicKey: string;
}

/** An ed25519 public key line, and nothing else (it reaches the GPU's known_hosts and a script). */
const ED25519_PUBLIC = /^ssh-ed25519 [A-Za-z0-9+/]{68}$/;

/** The key (type and base64, no comment) from one line `ssh-ed25519 <key> [comment]`, or undefined. */
export function parseHostKey(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const line = value.trim();
  if (/[\r\n]/.test(line)) return undefined;
  const key = line.split(" ").slice(0, 2).join(" ");
  return ED25519_PUBLIC.test(key) ? key : undefined;
}

async function readAttribute(inputs: GuestHostKeyInputs): Promise<unknown> {
  const auth = gcpAuthFromEnv(process.env, inputs.project);
  if (!auth)
    throw new Error(
      "no GCP credentials to read the standby's host key (GOOGLE_CREDENTIALS, GOOGLE_APPLICATION_CREDENTIALS or gcloud's)",
    );
  const q = new URLSearchParams({ queryPath: `${HOST_KEY_ATTRIBUTE.namespace}/` });
  const at = `projects/${encodeURIComponent(inputs.project)}/zones/${encodeURIComponent(inputs.zone)}/instances/${encodeURIComponent(inputs.instanceName)}`;
  try {
    const r = await gcpCall(gcpBase("compute"), auth, "GET", `${at}/getGuestAttributes?${q}`);
    const items: { namespace?: string; key?: string; value?: unknown }[] = r?.queryValue?.items ?? [];
    return items.find((i) => i.namespace === HOST_KEY_ATTRIBUTE.namespace && i.key === HOST_KEY_ATTRIBUTE.key)?.value;
  } catch (e) {
    if (e instanceof GcpHttpError && e.status === 404) return undefined; // not written yet
    throw e;
  }
}

export const guestHostKeyProvider = {
  async create(inputs: GuestHostKeyInputs): Promise<{ id: string; outs: GuestHostKeyOutputs }> {
    const until = Date.now() + (inputs.timeoutSeconds ?? 600) * 1000;
    for (;;) {
      const value = await readAttribute(inputs);
      if (value !== undefined) {
        const publicKey = parseHostKey(value);
        if (!publicKey)
          throw new Error(
            `standby ${inputs.instanceName} published a host key that is not one ed25519 public key; refusing to pin it`,
          );
        return { id: `${inputs.instanceName}/${inputs.instanceId}`, outs: { ...inputs, publicKey } };
      }
      if (Date.now() >= until)
        throw new Error(
          `standby ${inputs.instanceName} did not publish its host key (guest attribute ${HOST_KEY_ATTRIBUTE.namespace}/${HOST_KEY_ATTRIBUTE.key}) within ${inputs.timeoutSeconds ?? 600} s: is its startup script running? (A standby made before Fleet published host keys does so at its next boot: \`gcloud compute instances reset\`.)`,
        );
      await new Promise((r) => setTimeout(r, (inputs.pollSeconds ?? 5) * 1000));
    }
  },
  async diff(_id: string, olds: GuestHostKeyOutputs, news: GuestHostKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const keys = ["project", "zone", "instanceName", "instanceId"] as const;
    const replaces = keys.filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
  },
  /** Nothing to delete: the key lives on the VM. */
  async delete(): Promise<void> {},
};

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };
export class GuestHostKey extends pulumi.dynamic.Resource {
  declare readonly publicKey: pulumi.Output<string>;
  constructor(name: string, args: In<GuestHostKeyInputs>, opts?: pulumi.CustomResourceOptions) {
    super(guestHostKeyProvider, name, { ...args, publicKey: undefined }, opts, "fleet", "GuestHostKey");
  }
}
