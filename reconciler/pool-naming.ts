import { createHash } from "node:crypto";
import type { DesiredPool } from "./model";

/** The pool instance's name: from its pool, so a switch creates the new instance before the old one goes. */
export function poolInstanceName(p: DesiredPool): string {
  const key = `${p.provider}/${p.region}/${p.zone}/${p.instanceType}/${p.market}`;
  return `pool-${createHash("sha256").update(key).digest("hex").slice(0, 10)}`;
}

/** The zone a GCP pool instance lives in (a region-wide price picks the region's "b" zone). */
export function poolGcpZone(p: DesiredPool): string {
  return p.zone || `${p.region}-b`;
}
