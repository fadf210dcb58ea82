import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parseCidr } from "../../reconciler/hpc/ipv4";
import { renderXmlTemplate } from "../template";
import { Virsh, libvirtError, qemuImgInfo, run } from "./libvirt-client";

/**
 * Dynamic providers over virsh and qemu-img (the libvirt Pulumi provider is no longer published).
 * Each has create/read/diff/update/delete; `read` reports what libvirt says, so a refresh sees a
 * domain destroyed or stopped by hand. A create never adopts: an existing object of the same name
 * is an error. A create that fails part-way removes what it made.
 */

type Diff = pulumi.dynamic.DiffResult;
const GONE = { id: "", props: {} } as pulumi.dynamic.ReadResult;

function diffKeys<T extends object>(olds: T, news: T, replaceKeys: (keyof T)[], updateKeys: (keyof T)[]): Diff {
  const changed = (k: keyof T) => JSON.stringify(olds[k] ?? null) !== JSON.stringify(news[k] ?? null);
  const replaces = replaceKeys.filter(changed).map(String);
  const updates = updateKeys.filter(changed).map(String);
  return { changes: replaces.length + updates.length > 0, replaces, deleteBeforeReplace: true, stables: replaceKeys.filter((k) => !changed(k)).map(String) };
}

// ---------------------------------------------------------------- storage pool (directory)

export interface PoolInputs {
  uri: string;
  name: string;
  path: string;
}
export interface PoolOutputs extends PoolInputs {
  createdDir: boolean;
}

async function deletePool(id: string, props: PoolOutputs): Promise<void> {
  const v = new Virsh(props.uri);
  await v.maybe(v.exec(["pool-destroy", id])).catch(() => undefined); // inactive is fine
  await v.maybe(v.exec(["pool-undefine", id]));
  if (props.createdDir) {
    try {
      fs.rmdirSync(props.path); // only when empty: never delete data we did not make
    } catch {
      /* not empty or gone */
    }
  }
}

export const libvirtPoolProvider = {
  async create(inputs: PoolInputs): Promise<{ id: string; outs: PoolOutputs }> {
    const v = new Virsh(inputs.uri);
    if (await v.poolXml(inputs.name)) throw new Error(`storage pool ${inputs.name} already exists; remove it or pick another hpc.pool.name`);
    const createdDir = !fs.existsSync(inputs.path);
    fs.mkdirSync(inputs.path, { recursive: true, mode: 0o711 });
    try {
      await v.exec(["pool-define-as", inputs.name, "dir", "--target", inputs.path]);
      await v.exec(["pool-start", inputs.name]);
      await v.exec(["pool-autostart", inputs.name]);
    } catch (e) {
      await deletePool(inputs.name, { ...inputs, createdDir }).catch(() => undefined);
      throw e;
    }
    return { id: inputs.name, outs: { ...inputs, createdDir } };
  },
  async read(id: string, props: PoolOutputs): Promise<pulumi.dynamic.ReadResult> {
    const x = await new Virsh(props.uri).poolXml(id);
    if (!x) return GONE;
    return { id, props: { ...props, name: id, path: String(x.target?.path ?? props.path) } };
  },
  async diff(_id: string, olds: PoolOutputs, news: PoolInputs): Promise<Diff> {
    return diffKeys<PoolInputs>(olds, news, ["uri", "name", "path"], []);
  },
  async update(_id: string, olds: PoolOutputs, news: PoolInputs): Promise<{ outs: PoolOutputs }> {
    return { outs: { ...news, createdDir: olds.createdDir } };
  },
  delete: deletePool,
};

// ---------------------------------------------------------------- volume (qcow2 overlay)

export interface VolumeInputs {
  uri: string;
  pool: string;
  name: string;
  baseImage: string;
  sizeGiB: number;
}
export interface VolumeOutputs extends VolumeInputs {
  path: string;
  baseFormat: string;
}

const GiB = 1024 ** 3;

export const libvirtVolumeProvider = {
  async create(inputs: VolumeInputs): Promise<{ id: string; outs: VolumeOutputs }> {
    const v = new Virsh(inputs.uri);
    if (await v.volumeXml(inputs.pool, inputs.name)) throw new Error(`volume ${inputs.name} already exists in pool ${inputs.pool}`);
    const base = await qemuImgInfo(inputs.baseImage);
    if (inputs.sizeGiB * GiB < base.virtualSizeBytes) throw new Error(`volume ${inputs.name}: ${inputs.sizeGiB} GiB is smaller than the base image (${(base.virtualSizeBytes / GiB).toFixed(1)} GiB)`);
    // The base image may live outside any pool, so the overlay is made by qemu-img in the pool's
    // directory and then registered with a pool refresh (vol-create-as needs a pool volume as backing).
    const pool = await v.poolXml(inputs.pool);
    if (!pool) throw new Error(`storage pool ${inputs.pool} does not exist`);
    const path = `${String(pool.target.path).replace(/\/$/, "")}/${inputs.name}`;
    if (fs.existsSync(path)) throw new Error(`volume file ${path} already exists`);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-b", inputs.baseImage, "-F", base.format, path, `${inputs.sizeGiB}G`]);
    try {
      await v.exec(["pool-refresh", inputs.pool]);
    } catch (e) {
      fs.rmSync(path, { force: true });
      throw e;
    }
    return { id: `${inputs.pool}/${inputs.name}`, outs: { ...inputs, path, baseFormat: base.format } };
  },
  async read(id: string, props: VolumeOutputs): Promise<pulumi.dynamic.ReadResult> {
    const x = await new Virsh(props.uri).volumeXml(props.pool, props.name);
    if (!x) return GONE;
    const capacity = Number(typeof x.capacity === "object" ? x.capacity["#text"] : x.capacity);
    return { id, props: { ...props, path: String(x.target?.path ?? props.path), sizeGiB: Math.round(capacity / GiB), baseImage: String(x.backingStore?.path ?? props.baseImage) } };
  },
  async diff(_id: string, olds: VolumeOutputs, news: VolumeInputs): Promise<Diff> {
    const d = diffKeys<VolumeInputs>(olds, news, ["uri", "pool", "name", "baseImage"], ["sizeGiB"]);
    // Growing is an in-place resize; shrinking would cut the disk, so it replaces the volume.
    return news.sizeGiB < olds.sizeGiB ? { ...d, changes: true, replaces: [...(d.replaces ?? []), "sizeGiB"] } : d;
  },
  async update(_id: string, olds: VolumeOutputs, news: VolumeInputs): Promise<{ outs: VolumeOutputs }> {
    if (news.sizeGiB > olds.sizeGiB) {
      const v = new Virsh(news.uri);
      // A running domain holds the disk's write lock: grow it through that domain instead.
      const volPath = (await v.exec(["vol-path", "--pool", news.pool, news.name])).trim();
      const holder = await runningDomainUsing(v, volPath);
      if (holder) await v.exec(["blockresize", holder.domain, holder.target, `${news.sizeGiB}G`]);
      else await v.exec(["vol-resize", "--pool", news.pool, news.name, `${news.sizeGiB}G`]);
    }
    return { outs: { ...olds, ...news } };
  },
  async delete(_id: string, props: VolumeOutputs): Promise<void> {
    const v = new Virsh(props.uri);
    if ((await v.maybe(v.exec(["vol-delete", "--pool", props.pool, props.name]))) === undefined && props.path && fs.existsSync(props.path)) {
      // Made but not yet seen by a refresh (a concurrent create): register it, then delete it.
      await v.exec(["pool-refresh", props.pool]);
      await v.maybe(v.exec(["vol-delete", "--pool", props.pool, props.name]));
    }
  },
};

async function runningDomainUsing(v: Virsh, diskPath: string): Promise<{ domain: string; target: string } | undefined> {
  const running = (await v.exec(["list", "--state-running", "--name"])).split("\n").map((x) => x.trim()).filter(Boolean);
  for (const domain of running) {
    const blk = (await v.maybe(v.exec(["domblklist", domain]))) ?? "";
    for (const line of blk.split("\n")) {
      const [target, source] = line.trim().split(/\s+/);
      if (source === diskPath && target) return { domain, target };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- NAT network with fixed addresses

export interface DhcpHost {
  name: string;
  mac: string;
  ip: string;
}
export interface NetworkInputs {
  uri: string;
  name: string;
  cidr: string;
  hosts: DhcpHost[];
}
export interface NetworkOutputs extends NetworkInputs {
  bridge: string;
  active: boolean;
}

export function networkXml(inputs: NetworkInputs): string {
  const s = parseCidr(inputs.cidr);
  const hosts = inputs.hosts.map((h) => renderXmlTemplate("hpc-dhcp-host.xml", { MAC: h.mac, NAME: h.name, IP: h.ip }).trimEnd()).join("\n");
  return renderXmlTemplate("hpc-network.xml", { NAME: inputs.name, GATEWAY: s.gateway, NETMASK: s.netmask, RANGE_START: s.rangeStart, RANGE_END: s.rangeEnd }, { HOSTS: hosts });
}

function hostXml(h: DhcpHost): string {
  return renderXmlTemplate("hpc-dhcp-host.xml", { MAC: h.mac, NAME: h.name, IP: h.ip }).trim();
}

async function deleteNetwork(id: string, props: NetworkOutputs): Promise<void> {
  const v = new Virsh(props.uri);
  if (await v.networkActive(id)) await v.exec(["net-destroy", id]);
  await v.maybe(v.exec(["net-undefine", id]));
}

// Provider methods call only local functions, never `libvirt*Provider.x`: the engine runs each
// provider from its serialized closure in another process, where the exported object is not there.
export const libvirtNetworkProvider = {
  async create(inputs: NetworkInputs): Promise<{ id: string; outs: NetworkOutputs }> {
    const v = new Virsh(inputs.uri);
    if (await v.networkXml(inputs.name)) throw new Error(`network ${inputs.name} already exists`);
    await v.withXmlFile(["net-define"], networkXml(inputs));
    try {
      await v.exec(["net-start", inputs.name]);
      await v.exec(["net-autostart", inputs.name]);
    } catch (e) {
      await deleteNetwork(inputs.name, { ...inputs, bridge: "", active: false }).catch(() => undefined);
      throw e;
    }
    const x = await v.networkXml(inputs.name);
    return { id: inputs.name, outs: { ...inputs, bridge: String(x?.bridge?.["@name"] ?? ""), active: true } };
  },
  async read(id: string, props: NetworkOutputs): Promise<pulumi.dynamic.ReadResult> {
    const v = new Virsh(props.uri);
    const x = await v.networkXml(id);
    if (!x) return GONE;
    const ip = x.ip?.[0];
    const hosts: DhcpHost[] = (ip?.dhcp?.host ?? []).map((h: any) => ({ name: String(h["@name"]), mac: String(h["@mac"]).toLowerCase(), ip: String(h["@ip"]) }));
    return { id, props: { ...props, name: id, hosts, bridge: String(x.bridge?.["@name"] ?? ""), active: await v.networkActive(id) } };
  },
  async diff(_id: string, olds: NetworkOutputs, news: NetworkInputs): Promise<Diff> {
    const d = diffKeys<NetworkInputs>(olds, news, ["uri", "name", "cidr"], ["hosts"]);
    return olds.active === false ? { ...d, changes: true } : d; // stopped by hand: update starts it again
  },
  async update(id: string, olds: NetworkOutputs, news: NetworkInputs): Promise<{ outs: NetworkOutputs }> {
    const v = new Virsh(news.uri);
    const active = await v.networkActive(id);
    const scope = active ? ["--live", "--config"] : ["--config"];
    const key = (h: DhcpHost) => `${h.mac}|${h.name}|${h.ip}`;
    const before = new Set(olds.hosts.map(key));
    const after = new Set(news.hosts.map(key));
    for (const h of olds.hosts.filter((x) => !after.has(key(x)))) await v.exec(["net-update", id, "delete", "ip-dhcp-host", hostXml(h), ...scope]);
    for (const h of news.hosts.filter((x) => !before.has(key(x)))) await v.exec(["net-update", id, "add", "ip-dhcp-host", hostXml(h), ...scope]);
    if (!active) await v.exec(["net-start", id]);
    return { outs: { ...olds, ...news, active: true } };
  },
  delete: deleteNetwork,
};

// ---------------------------------------------------------------- domain

export type PowerState = "running" | "shut-off";
export interface DomainInputs {
  uri: string;
  name: string;
  role: "controller" | "compute";
  domainType: "kvm" | "qemu";
  vcpu: number;
  memoryMiB: number;
  diskPath: string;
  network: string;
  mac: string;
  /** PCI host devices (GPU passthrough), e.g. 0000:3b:00.0. */
  hostdevs: string[];
  powerState: PowerState;
  /** How long a graceful shutdown may take before the domain is powered off. 0: power off at once. */
  stopTimeoutSeconds: number;
}
export interface DomainOutputs extends DomainInputs {
  uuid: string;
  /** libvirt's own word for the state: running, shut off, paused, crashed... */
  state: string;
}

export function domainXml(inputs: DomainInputs): string {
  const values = { DOMAIN_TYPE: inputs.domainType, NAME: inputs.name, MEMORY_MIB: inputs.memoryMiB, VCPU: inputs.vcpu, DISK_PATH: inputs.diskPath, NETWORK: inputs.network, MAC: inputs.mac };
  if (inputs.role === "controller") {
    if (inputs.hostdevs.length) throw new Error(`${inputs.name}: PCI passthrough is for compute nodes only`);
    return renderXmlTemplate("hpc-controller.xml", values);
  }
  const hostdevs = inputs.hostdevs
    .map((addr) => {
      const m = addr.match(/^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/);
      if (!m) throw new Error(`${inputs.name}: ${addr} is not a PCI address such as 0000:3b:00.0`);
      return renderXmlTemplate("hpc-hostdev.xml", { DOMAIN: m[1]!, BUS: m[2]!, SLOT: m[3]!, FUNCTION: m[4]! }).trimEnd();
    })
    .join("\n");
  return renderXmlTemplate("hpc-compute.xml", values, { HOSTDEVS: hostdevs });
}

async function waitForState(v: Virsh, name: string, want: string, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if ((await v.domainState(name)) === want) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function setPower(v: Virsh, name: string, power: PowerState, stopTimeoutSeconds: number): Promise<void> {
  const state = await v.domainState(name);
  if (state === undefined) throw libvirtError(`power ${name}`, `domain ${name} not found`, true);
  if (power === "running" && state !== "running") {
    if (state === "paused") await v.exec(["resume", name]);
    else await v.exec(["start", name]);
  } else if (power === "shut-off" && state !== "shut off") {
    if (stopTimeoutSeconds > 0) {
      await v.exec(["shutdown", name]).catch(() => undefined);
      if (await waitForState(v, name, "shut off", stopTimeoutSeconds * 1000)) return;
    }
    await v.maybe(v.exec(["destroy", name]));
  }
}

function hostdevsOf(x: any): string[] {
  return (x.devices?.hostdev ?? []).map((h: any) => {
    const a = h.source?.address ?? {};
    const hex = (s: unknown, w: number) => String(s ?? "0").replace(/^0x/, "").padStart(w, "0");
    return `${hex(a["@domain"], 4)}:${hex(a["@bus"], 2)}:${hex(a["@slot"], 2)}.${String(a["@function"] ?? "0").replace(/^0x/, "")}`;
  });
}

function memoryMiBOf(m: any): number {
  const value = Number(typeof m === "object" ? m["#text"] : m);
  const unit = typeof m === "object" ? String(m["@unit"] ?? "KiB") : "KiB";
  const factor: Record<string, number> = { KiB: 1 / 1024, k: 1 / 1024, MiB: 1, M: 1, GiB: 1024, G: 1024, b: 1 / 1024 ** 2, bytes: 1 / 1024 ** 2 };
  return Math.round(value * (factor[unit] ?? 1 / 1024));
}

async function readDomain(id: string, props: DomainOutputs): Promise<pulumi.dynamic.ReadResult> {
  const v = new Virsh(props.uri);
  const x = await v.domainXml(id, true);
  if (!x) return GONE;
  const state = (await v.domainState(id)) ?? "unknown";
  const iface = x.devices?.interface?.[0];
  const disk = x.devices?.disk?.[0];
  const vcpu = Number(typeof x.vcpu === "object" ? x.vcpu["#text"] : x.vcpu);
  const outs: DomainOutputs = {
    ...props,
    name: String(x.name),
    domainType: x["@type"],
    uuid: String(x.uuid),
    vcpu,
    memoryMiB: memoryMiBOf(x.memory),
    diskPath: String(disk?.source?.["@file"] ?? ""),
    network: String(iface?.source?.["@network"] ?? ""),
    mac: String(iface?.mac?.["@address"] ?? "").toLowerCase(),
    hostdevs: hostdevsOf(x),
    state,
    powerState: state === "running" ? "running" : "shut-off",
  };
  return { id, props: outs };
}

async function deleteDomain(id: string, props: Pick<DomainOutputs, "uri"> & Partial<DomainOutputs>): Promise<void> {
  const v = new Virsh(props.uri);
  const state = await v.domainState(id);
  if (state === undefined) return;
  if (state !== "shut off") await v.maybe(v.exec(["destroy", id]));
  await v.maybe(v.exec(["undefine", id]));
}

export const libvirtDomainProvider = {
  async create(inputs: DomainInputs): Promise<{ id: string; outs: DomainOutputs }> {
    const v = new Virsh(inputs.uri);
    if ((await v.domainState(inputs.name)) !== undefined) throw new Error(`domain ${inputs.name} already exists`);
    // Nothing defined here may outlive a failed create: the engine records no resource for it.
    try {
      await v.withXmlFile(["define"], domainXml(inputs));
      if (inputs.powerState === "running") await v.exec(["start", inputs.name]);
      const read = await readDomain(inputs.name, { ...inputs, uuid: "", state: "" });
      if (!read.id) throw new Error(`domain ${inputs.name} vanished right after it was defined`);
      return { id: inputs.name, outs: read.props as DomainOutputs };
    } catch (e) {
      await deleteDomain(inputs.name, inputs).catch(() => undefined);
      throw e;
    }
  },
  read: readDomain,
  async diff(_id: string, olds: DomainOutputs, news: DomainInputs): Promise<Diff> {
    const replaceKeys: (keyof DomainInputs)[] = ["uri", "name", "role", "domainType", "vcpu", "memoryMiB", "diskPath", "network", "mac", "hostdevs"];
    return diffKeys<DomainInputs>(olds, news, replaceKeys, ["powerState", "stopTimeoutSeconds"]);
  },
  /** Changes the power state in place (never recreates the domain). */
  async update(id: string, olds: DomainOutputs, news: DomainInputs): Promise<{ outs: DomainOutputs }> {
    const v = new Virsh(news.uri);
    await setPower(v, id, news.powerState, news.stopTimeoutSeconds);
    const read = await readDomain(id, { ...olds, ...news });
    return { outs: read.props as DomainOutputs };
  },
  delete: deleteDomain,
};

// ---------------------------------------------------------------- Pulumi resources

type In<T> = { [K in keyof T]: pulumi.Input<T[K]> };

export class LibvirtPool extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  constructor(name: string, args: In<PoolInputs>, opts?: pulumi.CustomResourceOptions) {
    super(libvirtPoolProvider, name, { ...args, createdDir: undefined }, opts, "fleet", "LibvirtPool");
  }
}
export class LibvirtVolume extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  constructor(name: string, args: In<VolumeInputs>, opts?: pulumi.CustomResourceOptions) {
    super(libvirtVolumeProvider, name, { ...args, path: undefined, baseFormat: undefined }, opts, "fleet", "LibvirtVolume");
  }
}
export class LibvirtNetwork extends pulumi.dynamic.Resource {
  declare readonly bridge: pulumi.Output<string>;
  constructor(name: string, args: In<NetworkInputs>, opts?: pulumi.CustomResourceOptions) {
    super(libvirtNetworkProvider, name, { ...args, bridge: undefined, active: undefined }, opts, "fleet", "LibvirtNetwork");
  }
}
export class LibvirtDomain extends pulumi.dynamic.Resource {
  declare readonly state: pulumi.Output<string>;
  declare readonly uuid: pulumi.Output<string>;
  constructor(name: string, args: In<DomainInputs>, opts?: pulumi.CustomResourceOptions) {
    super(libvirtDomainProvider, name, { ...args, state: undefined, uuid: undefined }, opts, "fleet", "LibvirtDomain");
  }
}

/**
 * The provider ID of a libvirt object from its inputs (what `create` returns), for the engine's
 * import of a pending create left by an interrupted update. undefined for any other type.
 */
export function libvirtIdFromInputs(type: string, inputs: Record<string, unknown>): string | undefined {
  const name = typeof inputs.name === "string" ? inputs.name : undefined;
  if (!name) return undefined;
  switch (type) {
    case "pulumi-nodejs:dynamic/fleet:LibvirtPool":
    case "pulumi-nodejs:dynamic/fleet:LibvirtNetwork":
    case "pulumi-nodejs:dynamic/fleet:LibvirtDomain":
      return name;
    case "pulumi-nodejs:dynamic/fleet:LibvirtVolume":
      return typeof inputs.pool === "string" ? `${inputs.pool}/${name}` : undefined;
    default:
      return undefined;
  }
}
