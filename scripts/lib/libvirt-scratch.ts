// Scratch objects for tests and benchmarks against the real libvirtd: a unique prefix, a
// world-traversable directory with a tiny base image, a free subnet, the domain type that works here.
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const URI = "qemu:///system";

/** Whether libvirtd answers; when FLEET_REQUIRE_LIBVIRT=1 (CI) a missing libvirtd is a failure, not a skip. */
export function libvirtSkipReason(): string | false {
  const r = spawnSync("virsh", ["-c", URI, "version"], { encoding: "utf8", timeout: 20_000 });
  if (r.status === 0) return false;
  const why = `libvirtd not reachable at ${URI} (${(r.error?.message ?? r.stderr ?? "").trim().split("\n")[0]})`;
  if (process.env.FLEET_REQUIRE_LIBVIRT === "1") throw new Error(`${why}; FLEET_REQUIRE_LIBVIRT=1 requires it`);
  return why;
}

/** kvm when the qemu user can open /dev/kvm (libvirt runs qemu as libvirt-qemu, group kvm), else emulation. */
export function domainTypeHere(): "kvm" | "qemu" {
  try {
    const st = fs.statSync("/dev/kvm");
    const kvmGid = Number(execFileSync("getent", ["group", "kvm"], { encoding: "utf8" }).split(":")[2]);
    return (st.mode & 0o060) === 0o060 && st.gid === kvmGid ? "kvm" : "qemu";
  } catch {
    return "qemu";
  }
}

/** A unique prefix for every object a test makes, and a world-traversable scratch directory. */
export function scratch(kind = "flt"): { prefix: string; dir: string; baseImage: string } {
  const prefix = `${kind}-${randomBytes(3).toString("hex")}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  const baseImage = path.join(dir, "base.qcow2");
  execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", baseImage, "64M"]);
  fs.chmodSync(baseImage, 0o644);
  return { prefix, dir, baseImage };
}

/** A /24 in 10.<second>.0.0/16 not used by any libvirt network or route here. */
export function freeCidr(second = 213): string {
  const used = execFileSync("ip", ["-4", "route"], { encoding: "utf8" });
  for (let i = 0; i < 200; i++) {
    const third = 20 + Math.floor(Math.random() * 230);
    if (!used.includes(`10.${second}.${third}.`)) return `10.${second}.${third}.0/24`;
  }
  throw new Error(`no free 10.${second}.x.0/24 here`);
}
