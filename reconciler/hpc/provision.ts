import pLimit from "p-limit";
import { libvirtDomainProvider, libvirtNetworkProvider, libvirtPoolProvider, libvirtVolumeProvider } from "../../stacks/providers/libvirt";
import type { ClusterLayout } from "./layout";

/**
 * Creates a cluster through the providers' own create functions: the pool, then the network and
 * every node's volume at once, then every domain at once (bounded by `concurrency`). When anything
 * fails, it waits for what is in flight, then deletes everything this attempt made, newest first,
 * and throws: nothing is left behind. What existed before is never touched.
 * (Pulumi runs the same providers from the HpcCluster component; this path is for the engine-free
 * commands, the rollback guarantee and the benchmark.)
 */

type Created = { kind: "pool" | "network" | "volume" | "domain"; id: string; outs: any };
export interface ProviderSet {
  pool: { create(i: any): Promise<{ id: string; outs: any }>; delete(id: string, p: any): Promise<void> };
  network: ProviderSet["pool"];
  volume: ProviderSet["pool"];
  domain: ProviderSet["pool"];
}
export const LIBVIRT_PROVIDERS: ProviderSet = { pool: libvirtPoolProvider, network: libvirtNetworkProvider, volume: libvirtVolumeProvider, domain: libvirtDomainProvider };

export class ProvisionError extends Error {
  constructor(
    readonly causes: unknown[],
    readonly rolledBack: string[],
    readonly rollbackFailures: string[],
  ) {
    super(
      `creating the cluster failed: ${causes.map((c) => (c instanceof Error ? c.message : String(c))).join("; ")}; ` +
        (rollbackFailures.length ? `rollback left: ${rollbackFailures.join(", ")}` : `rolled back ${rolledBack.length} objects`),
    );
  }
}

export interface ProvisionOptions {
  concurrency?: number;
  providers?: ProviderSet;
  /** Skip the pool step when the pool already exists (several clusters share one). */
  poolExists?: boolean;
  onProgress?: (event: string) => void;
}

export async function provisionCluster(layout: ClusterLayout, opts: ProvisionOptions = {}): Promise<Created[]> {
  const providers = opts.providers ?? LIBVIRT_PROVIDERS;
  const limit = pLimit(Math.max(1, opts.concurrency ?? 64));
  const created: Created[] = [];
  const progress = opts.onProgress ?? (() => {});
  const make = (kind: Created["kind"], inputs: any, label: string) =>
    limit(async () => {
      const r = await providers[kind].create(inputs);
      created.push({ kind, id: r.id, outs: r.outs });
      progress(`created ${kind} ${label}`);
      return r;
    });
  const stage = async (jobs: Promise<unknown>[]) => {
    const results = await Promise.allSettled(jobs);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);
    if (failed.length) throw failed;
  };
  try {
    if (!opts.poolExists) await stage([make("pool", layout.pool, layout.pool.name)]);
    await stage([make("network", layout.network, layout.network.name), ...layout.nodes.map((n) => make("volume", n.volume, n.volume.name))]);
    await stage(layout.nodes.map((n) => make("domain", n.domain, n.domain.name)));
    return created;
  } catch (e) {
    const causes = Array.isArray(e) ? e : [e];
    progress(`failed: ${causes.map((c) => (c instanceof Error ? c.message : String(c))).join("; ")}; rolling back`);
    const { removed, failures } = await removeCreated(created, providers, opts.concurrency ?? 64);
    throw new ProvisionError(causes, removed, failures);
  }
}

const ORDER: Created["kind"][] = ["domain", "volume", "network", "pool"];

/** Deletes objects in dependency order (domains, volumes, network, pool), each kind in parallel. */
export async function removeCreated(created: Created[], providers: ProviderSet = LIBVIRT_PROVIDERS, concurrency = 64): Promise<{ removed: string[]; failures: string[] }> {
  const limit = pLimit(Math.max(1, concurrency));
  const removed: string[] = [];
  const failures: string[] = [];
  for (const kind of ORDER) {
    await Promise.all(
      created
        .filter((c) => c.kind === kind)
        .map((c) =>
          limit(async () => {
            try {
              await providers[kind].delete(c.id, c.outs);
              removed.push(`${kind} ${c.id}`);
            } catch (err) {
              failures.push(`${kind} ${c.id} (${err instanceof Error ? err.message : String(err)})`);
            }
          }),
        ),
    );
  }
  return { removed, failures };
}

/** Removes a whole cluster by its layout, whatever exists of it (destroy, cleanup). */
export async function destroyCluster(layout: ClusterLayout, opts: { concurrency?: number; keepPool?: boolean } = {}): Promise<{ removed: string[]; failures: string[] }> {
  const objects: Created[] = [
    ...layout.nodes.map((n) => ({ kind: "domain" as const, id: n.domain.name, outs: n.domain })),
    ...layout.nodes.map((n) => ({ kind: "volume" as const, id: `${n.volume.pool}/${n.volume.name}`, outs: n.volume })),
    { kind: "network" as const, id: layout.network.name, outs: layout.network },
    ...(opts.keepPool ? [] : [{ kind: "pool" as const, id: layout.pool.name, outs: { ...layout.pool, createdDir: false } }]),
  ];
  return removeCreated(objects, LIBVIRT_PROVIDERS, opts.concurrency);
}
