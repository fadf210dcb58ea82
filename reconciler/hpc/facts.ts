import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HpcSpec } from "../model";
import { FleetError } from "../errors";
import { Virsh, isUnreachable, qemuImgInfo } from "../../stacks/providers/libvirt-client";
import { parseCidr } from "./ipv4";
import type { ClusterFacts } from "./layout";
import { planCluster } from "./layout";

/** Reads what validation needs from this host and libvirt (I/O only; the rules are in layout.ts). */
export async function gatherClusterFacts(spec: HpcSpec): Promise<ClusterFacts> {
  const layout = planCluster(spec);
  const v = new Virsh(spec.uri);
  const baseImage: ClusterFacts["baseImage"] = { readable: false };
  try {
    fs.accessSync(spec.baseImage, fs.constants.R_OK);
    const info = await qemuImgInfo(spec.baseImage);
    Object.assign(baseImage, { readable: true, format: info.format, virtualSizeGiB: info.virtualSizeBytes / 1024 ** 3 });
  } catch (e) {
    baseImage.error = (e as NodeJS.ErrnoException).code ?? (e as Error).message.split("\n")[0];
  }

  const [domains, networks] = await Promise.all([v.listDomains(), v.listNetworks()]).catch((e) => {
    if (isUnreachable(e)) throw new FleetError(`hpc.uri: libvirtd is not reachable at ${spec.uri}: start it (systemctl start libvirtd, or libvirtd -d and virtlogd -d) or set hpc.uri; nothing was changed`);
    throw e;
  });
  const ours = new Set(layout.nodes.map((n) => n.domain.name));
  const otherNetworks: ClusterFacts["otherNetworks"] = [];
  for (const name of networks.filter((n) => n !== layout.network.name)) {
    const x = await v.networkXml(name);
    const ip = x?.ip?.[0];
    if (ip?.["@address"] && (ip["@netmask"] || ip["@prefix"])) {
      const prefix = ip["@prefix"] ? Number(ip["@prefix"]) : String(ip["@netmask"]).split(".").reduce((a: number, o: string) => a + (Number(o) >>> 0).toString(2).replace(/0/g, "").length, 0);
      try {
        const s = parseCidr(`${ip["@address"]}/${prefix}`);
        otherNetworks.push({ name, cidr: `${[24, 16, 8, 0].map((b) => Math.floor(s.network / 2 ** b) % 256).join(".")}/${prefix}` });
      } catch {
        /* unusual prefix: not comparable */
      }
    }
  }
  const usedMacs: ClusterFacts["usedMacs"] = [];
  for (const d of domains.filter((n) => !ours.has(n))) {
    const x = await v.domainXml(d, true);
    for (const i of x?.devices?.interface ?? []) if (i.mac?.["@address"]) usedMacs.push({ domain: d, mac: String(i.mac["@address"]).toLowerCase() });
  }
  const poolExists = (await v.poolXml(layout.pool.name)) !== undefined;
  return {
    baseImage,
    freeDiskGiB: freeGiB(layout.pool.path),
    hostCpus: os.cpus().length,
    hostMemoryMiB: Math.floor(os.totalmem() / 1024 ** 2),
    otherNetworks,
    usedMacs,
    existing: {
      domains: domains.filter((n) => ours.has(n)),
      network: networks.includes(layout.network.name),
      pool: poolExists,
      volumes: poolExists ? await v.listVolumes(layout.pool.name) : [],
    },
  };
}

/** Free space of the nearest existing directory at or above `dir`. */
function freeGiB(dir: string): number {
  let d = dir;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = fs.statfsSync(d);
  return (s.bavail * s.bsize) / 1024 ** 3;
}
