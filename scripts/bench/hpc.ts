import * as fs from "node:fs";
import * as path from "node:path";
import { planCluster } from "../../reconciler/hpc/layout";
import { destroyCluster, provisionCluster } from "../../reconciler/hpc/provision";
import { sweepLibvirt } from "../../reconciler/hpc/sweep";
import { HpcSpecSchema } from "../../reconciler/model";
import { timeIt, type Figure } from "./measure";
import { URI, domainTypeHere, freeCidr, libvirtSkipReason, scratch } from "../lib/libvirt-scratch";

/**
 * hpc.parallel.s / hpc.sequential.s / hpc.parallel_ratio: create a 1+8 node cluster (pool, network,
 * 9 overlays, 9 running domains) through the providers against the real libvirtd, all at once and
 * one object at a time; each run is destroyed before the next.
 */
export async function benchHpc(): Promise<Figure[]> {
  if (libvirtSkipReason()) throw new Error(`skipped: libvirtd not reachable at ${URI}`);
  const { prefix, dir, baseImage } = scratch("flb");
  const spec = HpcSpecSchema.parse({
    name: prefix,
    uri: URI,
    baseImage,
    pool: { name: `${prefix}-pool`, path: path.join(dir, "pool") },
    network: { cidr: freeCidr(214) },
    domainType: domainTypeHere(),
    controller: { vcpu: 1, memoryMiB: 64, diskGiB: 1 },
    compute: { count: 8, vcpu: 1, memoryMiB: 64, diskGiB: 1 },
  });
  const layout = planCluster(spec, { stopTimeoutSeconds: 0 });
  try {
    const parallel = await timeIt(() => provisionCluster(layout));
    await destroyCluster(layout);
    const sequential = await timeIt(() => provisionCluster(layout, { concurrency: 1 }));
    await destroyCluster(layout);
    return [
      { name: "hpc.parallel.s", value: parallel.ms / 1000, unit: "s" },
      { name: "hpc.sequential.s", value: sequential.ms / 1000, unit: "s" },
      { name: "hpc.parallel_ratio", value: parallel.ms / sequential.ms, unit: "x" },
    ];
  } finally {
    await sweepLibvirt(URI, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
