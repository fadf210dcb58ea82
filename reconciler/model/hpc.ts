import { z } from "zod";

/** The hpc area: a libvirt/QEMU cluster (controller + compute nodes on qcow2 overlays of a base image). */

const hpcName = z.string().regex(/^[a-z][a-z0-9-]{0,22}$/, "must be 1-23 lowercase letters, digits or '-', starting with a letter");
const cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, "must be an IPv4 CIDR such as 10.77.0.0/24");
const pciAddress = z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, "must be a PCI address such as 0000:3b:00.0");

const LIBVIRT_URI = /^(?:qemu|test)(?:\+(?:ssh|tls|unix))?:\/\/(?:[a-zA-Z0-9_.-]+@)?(?:[a-zA-Z0-9.-]+(?::\d{1,5})?)?\/(?:system|session|default)$/;
/** An absolute, normalized path (no `..`, `.` or `//`) with no character a shell or virsh reads specially. */
const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9_./+@-]*$/, "must be an absolute path of letters, digits and _ . / + @ -")
  .refine((p) => p === "/" || (!p.split("/").slice(1).some((seg) => seg === "" || seg === "." || seg === "..")), "must be a normalized absolute path (no '..', '.' or '//')");

export const HpcNodeSizeSchema = z.strictObject({
  vcpu: z.int().min(1, "needs at least 1 vCPU").max(256, "at most 256 vCPUs"),
  memoryMiB: z.int().min(64, "needs at least 64 MiB").max(1_048_576, "at most 1 TiB"),
  diskGiB: z.int().min(1, "needs at least 1 GiB").max(16_384, "at most 16 TiB"),
});

export const HpcSpecSchema = z.strictObject({
  name: hpcName,
  /**
   * Local, ssh or tls transports only, no query: libvirt's ext transport (and a `?command=` on any
   * other) runs a program named in the URI, and tcp is unauthenticated.
   */
  uri: z
    .string()
    .regex(LIBVIRT_URI, "must be a libvirt URI over a local, ssh or tls transport, such as qemu:///system or qemu+ssh://user@host/system")
    .default("qemu:///system"),
  /** Absolute path of the base image (qcow2 or raw) every node's disk is an overlay of. */
  baseImage: absolutePath,
  /** Directory-backed storage pool for the overlays; created if missing. */
  pool: z.strictObject({ name: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit").optional(), path: absolutePath }).optional(),
  network: z.strictObject({ cidr: cidr.default("10.77.0.0/24") }).prefault({}),
  /** kvm (hardware acceleration, needs /dev/kvm) or qemu (emulation). */
  domainType: z.enum(["kvm", "qemu"]).default("kvm"),
  controller: HpcNodeSizeSchema,
  compute: HpcNodeSizeSchema.extend({
    count: z.int().min(0).max(200),
    /** PCI host devices to pass through, one per compute node in order (GPU passthrough). */
    gpus: z.array(pciAddress).optional(),
    /** Bounds for queue-driven scaling (see hpc.queue in policy); count stays within them. */
    min: z.int().min(0).optional(),
    max: z.int().min(0).max(200).optional(),
  }),
  /** Desired power state of every node. */
  running: z.boolean().default(true),
});

export type HpcNodeSize = z.infer<typeof HpcNodeSizeSchema>;
export type HpcSpec = z.infer<typeof HpcSpecSchema>;
