import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { XMLParser } from "fast-xml-parser";

/**
 * A thin client over `virsh` and `qemu-img` (the libvirt bindings for Node are unmaintained; the CLI
 * is the stable interface). Arguments go through execFile, never a shell.
 */

/**
 * A failed virsh or qemu-img call. A plain Error with fields, not a subclass: the engine runs the
 * providers from their serialized closures, where a class extending Error loses its message
 * (the serializer calls `Error` as a function) and `instanceof` cannot be trusted.
 */
export interface LibvirtError extends Error {
  command: string;
  stderr: string;
  notFound: boolean;
}

export function libvirtError(command: string, stderr: string, notFound: boolean): LibvirtError {
  const e = new Error(`${command}: ${stderr.trim() || "failed"}`) as LibvirtError;
  e.name = "LibvirtError";
  e.command = command;
  e.stderr = stderr;
  e.notFound = notFound;
  return e;
}

export function isLibvirtError(e: unknown): e is LibvirtError {
  return e instanceof Error && e.name === "LibvirtError" && typeof (e as Partial<LibvirtError>).notFound === "boolean";
}

/** libvirtd is not running or not reachable at the URI (as opposed to an object not being there). */
export function isUnreachable(e: unknown): boolean {
  return isLibvirtError(e) && /failed to connect to the hypervisor|Failed to connect socket/i.test(e.stderr);
}

const NOT_FOUND = /not found|failed to get (domain|network|vol|pool)|no (storage vol|network|domain) with matching|Storage (volume|pool) not found|no storage pool with matching/i;

export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const text = String(stderr || (err as Error).message);
        reject(libvirtError(`${cmd} ${args.slice(0, 4).join(" ")}`, text, NOT_FOUND.test(text)));
      } else resolve(String(stdout));
    });
  });
}

/** Made per call, not held at module level: Pulumi serializes providers' closures, and a parser
 *  instance would be copied by value while the package itself is captured as a require. */
export function parseXml(text: string): any {
  const lists = ["disk", "interface", "hostdev", "host", "ip", "range"];
  return new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", parseAttributeValue: false, isArray: (name) => lists.includes(name) }).parse(text);
}

export class Virsh {
  constructor(readonly uri: string) {}

  exec(args: string[], timeoutMs?: number): Promise<string> {
    return run("virsh", ["-q", "-c", this.uri, ...args], { timeoutMs });
  }

  /** Runs `virsh <verb> FILE` on an XML document written to a private temporary file. */
  async withXmlFile(verb: string[], document: string): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-virsh-"));
    const file = path.join(dir, "doc.xml");
    fs.writeFileSync(file, document, { mode: 0o600 });
    try {
      return await this.exec([...verb, file]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** undefined when missing; other errors propagate. */
  async maybe<T>(p: Promise<T>): Promise<T | undefined> {
    try {
      return await p;
    } catch (e) {
      if (isLibvirtError(e) && e.notFound) return undefined;
      throw e;
    }
  }

  async domainState(name: string): Promise<string | undefined> {
    const out = await this.maybe(this.exec(["domstate", name]));
    return out?.trim();
  }

  async domainXml(name: string, inactive = false): Promise<any | undefined> {
    const out = await this.maybe(this.exec(["dumpxml", ...(inactive ? ["--inactive"] : []), name]));
    return out && parseXml(out).domain;
  }

  async networkXml(name: string): Promise<any | undefined> {
    const out = await this.maybe(this.exec(["net-dumpxml", name]));
    return out && parseXml(out).network;
  }

  async networkActive(name: string): Promise<boolean> {
    const info = await this.maybe(this.exec(["net-info", name]));
    return !!info && /^Active:\s+yes/m.test(info);
  }

  async poolXml(name: string): Promise<any | undefined> {
    const out = await this.maybe(this.exec(["pool-dumpxml", name]));
    return out && parseXml(out).pool;
  }

  async volumeXml(pool: string, name: string): Promise<any | undefined> {
    const out = await this.maybe(this.exec(["vol-dumpxml", "--pool", pool, name]));
    return out && parseXml(out).volume;
  }

  /** DHCP leases of a network: mac -> ip. */
  async leases(network: string): Promise<Map<string, string>> {
    const out = (await this.maybe(this.exec(["net-dhcp-leases", network]))) ?? "";
    const map = new Map<string, string>();
    for (const line of out.split("\n")) {
      const m = line.match(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})\s+ipv4\s+([0-9.]+)\//i);
      if (m) map.set(m[1]!.toLowerCase(), m[2]!);
    }
    return map;
  }

  async listDomains(): Promise<string[]> {
    return (await this.exec(["list", "--all", "--name"])).split("\n").map((s) => s.trim()).filter(Boolean);
  }
  async listNetworks(): Promise<string[]> {
    return (await this.exec(["net-list", "--all", "--name"])).split("\n").map((s) => s.trim()).filter(Boolean);
  }
  async listPools(): Promise<string[]> {
    return (await this.exec(["pool-list", "--all", "--name"])).split("\n").map((s) => s.trim()).filter(Boolean);
  }
  async listVolumes(pool: string): Promise<string[]> {
    const out = (await this.maybe(this.exec(["vol-list", pool]))) ?? "";
    return out.split("\n").map((l) => l.trim().split(/\s+/)[0] ?? "").filter(Boolean);
  }
}

export interface ImageInfo {
  format: string;
  virtualSizeBytes: number;
  backingFilename?: string;
}

export async function qemuImgInfo(file: string): Promise<ImageInfo> {
  const out = JSON.parse(await run("qemu-img", ["info", "--output=json", "-U", file]));
  return { format: out.format, virtualSizeBytes: out["virtual-size"], backingFilename: out["backing-filename"] };
}
