import { Virsh } from "../../stacks/providers/libvirt-client";

/**
 * Removes every libvirt domain, network, volume and pool whose name starts with `prefix`.
 * For test cleanup and `fleet sweep`; a short or empty prefix is refused.
 */
export async function sweepLibvirt(uri: string, prefix: string): Promise<string[]> {
  if (prefix.length < 6) throw new Error(`refusing to sweep libvirt objects by the short prefix '${prefix}'`);
  const v = new Virsh(uri);
  const removed: string[] = [];
  for (const d of (await v.listDomains()).filter((n) => n.startsWith(prefix))) {
    await v.maybe(v.exec(["destroy", d])).catch(() => undefined);
    await v.maybe(v.exec(["undefine", d]));
    removed.push(`domain ${d}`);
  }
  for (const n of (await v.listNetworks()).filter((x) => x.startsWith(prefix))) {
    await v.maybe(v.exec(["net-destroy", n])).catch(() => undefined);
    await v.maybe(v.exec(["net-undefine", n]));
    removed.push(`network ${n}`);
  }
  for (const p of (await v.listPools()).filter((x) => x.startsWith(prefix))) {
    for (const vol of await v.listVolumes(p)) {
      await v.maybe(v.exec(["vol-delete", "--pool", p, vol]));
      removed.push(`volume ${p}/${vol}`);
    }
    await v.maybe(v.exec(["pool-destroy", p])).catch(() => undefined);
    await v.maybe(v.exec(["pool-undefine", p]));
    removed.push(`pool ${p}`);
  }
  return removed;
}
