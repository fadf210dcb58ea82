import { z } from "zod";

/** The hpc area: a libvirt/QEMU cluster (controller + compute nodes on qcow2 overlays of a base image). */

const hpcName = z.string().regex(/^[a-z][a-z0-9-]{0,22}$/, "must be 1-23 lowercase letters, digits or '-', starting with a letter");
const cidr = z.string().regex(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/, "must be an IPv4 CIDR such as 10.77.0.0/24");
const pciAddress = z.string().regex(/^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/, "must be a PCI address such as 0000:3b:00.0");

export const HpcNodeSizeSchema = z.strictObject({
  vcpu: z.int().min(1, "needs at least 1 vCPU").max(256, "at most 256 vCPUs"),
  memoryMiB: z.int().min(64, "needs at least 64 MiB").max(1_048_576, "at most 1 TiB"),
  diskGiB: z.int().min(1, "needs at least 1 GiB").max(16_384, "at most 16 TiB"),
});

export const HpcSpecSchema = z.strictObject({
  name: hpcName,
  uri: z.string().regex(/^(qemu|test)(\+[a-z]+)?:\/\/[^\s]*\/(system|session|default)$/, "must be a libvirt URI such as qemu:///system").default("qemu:///system"),
  /** Absolute path of the base image (qcow2 or raw) every node's disk is an overlay of. */
  baseImage: z.string().regex(/^\//, "must be an absolute path"),
  /** Directory-backed storage pool for the overlays; created if missing. */
  pool: z.strictObject({ name: z.string().regex(/^[a-zA-Z0-9_.-]{1,64}$/).optional(), path: z.string().regex(/^\//, "must be an absolute path") }).optional(),
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
