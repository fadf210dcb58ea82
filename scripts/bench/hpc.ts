import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planCluster } from "../../reconciler/hpc/layout";
import { destroyCluster, provisionCluster } from "../../reconciler/hpc/provision";
import { sweepLibvirt } from "../../reconciler/hpc/sweep";
import { HpcSpecSchema } from "../../reconciler/model";
import { timeIt, type Figure } from "./measure";

const URI = "qemu:///system";

/**
 * hpc.parallel.s / hpc.sequential.s / hpc.parallel_ratio: create a 1+8 node cluster (pool, network,
 * 9 overlays, 9 running domains) through the providers against the real libvirtd, all at once and
 * one object at a time; each run is destroyed before the next.
 */
export async function benchHpc(): Promise<Figure[]> {
  const probe = spawnSync("virsh", ["-c", URI, "version"], { encoding: "utf8", timeout: 20_000 });
  if (probe.status !== 0) throw new Error(`skipped: libvirtd not reachable at ${URI}`);
  const prefix = `flb-${randomBytes(3).toString("hex")}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  const baseImage = path.join(dir, "base.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", baseImage, "64M"]);
  fs.chmodSync(baseImage, 0o644);
  const kvm = (() => {
    try {
      return (fs.statSync("/dev/kvm").mode & 0o060) === 0o060 ? "kvm" : "qemu";
    } catch {
      return "qemu";
    }
  })();
  const routes = execFileSync("ip", ["-4", "route"], { encoding: "utf8" });
  const third = [...Array(200).keys()].map((i) => 30 + i).find((t) => !routes.includes(`10.214.${t}.`)) ?? 30;
  const spec = HpcSpecSchema.parse({
    name: prefix,
    uri: URI,
    baseImage,
    pool: { name: `${prefix}-pool`, path: path.join(dir, "pool") },
    network: { cidr: `10.214.${third}.0/24` },
    domainType: kvm,
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
