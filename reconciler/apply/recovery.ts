import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Virsh } from "../../stacks/providers/libvirt-client";
import { libvirtDomainProvider, libvirtIdFromInputs, libvirtNetworkProvider, libvirtPoolProvider, libvirtVolumeProvider } from "../../stacks/providers/libvirt";

/**
 * What a killed `pulumi` leaves behind, and how Fleet gets past it without guessing:
 * - the file backend's update lock (`.pulumi/locks/organization/<project>/<stack>/<id>.json`, holding
 *   the pid and host of the update). A lock whose process is gone on this host is stale and removed;
 *   a lock of a live process, or of another host, is left alone (that update may still be running).
 * - pending operations in the state: a create in flight is not in the state even if the object was
 *   made (see planPendingCreates).
 */
export interface EngineLock {
  file: string;
  pid: number;
  hostname: string;
  timestamp: string;
}

export function engineLocks(backendUrl: string, project: string, stack: string): EngineLock[] {
  if (!backendUrl.startsWith("file://")) return [];
  const root = backendUrl.slice("file://".length).split("?")[0]!;
  const dir = path.join(root, ".pulumi", "locks", "organization", project, stack);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const file = path.join(dir, name);
    try {
      const raw = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<EngineLock>;
      if (typeof raw.pid !== "number" || typeof raw.hostname !== "string") return [];
      return [{ file, pid: raw.pid, hostname: raw.hostname, timestamp: String(raw.timestamp ?? "") }];
    } catch {
      return [];
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Locks held by a pulumi process of this host that no longer runs. */
export function staleLocks(locks: EngineLock[], hostname = os.hostname(), isAlive = alive): EngineLock[] {
  return locks.filter((l) => l.hostname === hostname && !isAlive(l.pid));
}

export interface PendingOperation {
  type: string; // creating, updating, deleting, reading, importing
  resource: { urn: string; type: string; inputs?: Record<string, unknown> };
}

/**
 * Pending creates split into those Fleet can undo itself (a libvirt object whose ID follows from its
 * inputs: a create in flight never adopts, so an object of that name was made by it) and those it can
 * only clear from the state (cloud resources: `fleet sweep` finds any that were made).
 *
 * Why undo rather than import: the engine's `--import-pending-creates` reads the object through its
 * provider, and a dynamic provider is only reachable through the serialized code kept in the
 * resource's state, which a pending create does not have (the read fails and the object is dropped).
 */
export function planPendingCreates(pending: PendingOperation[]): { undo: LibvirtUndo[]; clears: string[] } {
  const undo: LibvirtUndo[] = [];
  const clears: string[] = [];
  for (const p of pending) {
    if (p.type !== "creating") continue;
    const inputs = p.resource.inputs ?? {};
    const id = libvirtIdFromInputs(p.resource.type, inputs);
    if (id) undo.push({ urn: p.resource.urn, type: p.resource.type, id, inputs });
    else clears.push(p.resource.urn);
  }
  // Domains first, then networks and volumes, the pool last: nothing is removed while in use.
  const rank = (t: string) => ["LibvirtDomain", "LibvirtNetwork", "LibvirtVolume", "LibvirtPool"].findIndex((k) => t.endsWith(k));
  undo.sort((a, b) => rank(a.type) - rank(b.type));
  return { undo, clears };
}

export interface LibvirtUndo {
  urn: string;
  type: string;
  id: string;
  inputs: Record<string, unknown>;
}

/** Removes what an interrupted create of a libvirt object made (nothing when it made nothing). */
export async function undoLibvirtCreate(u: LibvirtUndo): Promise<void> {
  const kind = u.type.split(":").pop();
  const props = u.inputs as never;
  if (kind === "LibvirtDomain") await libvirtDomainProvider.delete(u.id, props);
  else if (kind === "LibvirtNetwork") await libvirtNetworkProvider.delete(u.id, props);
  else if (kind === "LibvirtVolume") {
    // The overlay file may exist before libvirt lists it (made by qemu-img, pool not yet refreshed).
    const { uri, pool, name } = u.inputs as { uri: string; pool: string; name: string };
    const dir = (await new Virsh(uri).poolXml(pool))?.target?.path;
    const file = dir ? `${String(dir).replace(/\/$/, "")}/${name}` : "";
    await libvirtVolumeProvider.delete(u.id, { ...(u.inputs as object), path: file } as never);
  }
  // createdDir false: a pool's directory is left as it is (it may hold files Fleet did not make).
  else if (kind === "LibvirtPool") await libvirtPoolProvider.delete(u.id, { ...(u.inputs as object), createdDir: false } as never);
}
