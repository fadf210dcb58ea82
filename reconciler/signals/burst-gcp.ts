import type { ActualFleetInput, BurstVmObserved } from "../model";
import { LABELS, MANAGED_BY, toLabelValue } from "../model/labels";
import { GcpHttpError, gcpCall, type GcpAuth } from "../gcp/rest";
import type { FleetReader } from "./types";

/** The guest attribute the burst startup script writes each minute the VM is busy (stacks/templates/burst-startup.sh). */
export const LAST_BUSY_ATTRIBUTE = { namespace: "fleet", key: "last-busy-at" } as const;

/** States in which a VM costs money and does work (https://cloud.google.com/compute/docs/instances/instance-life-cycle). */
const LIVE = new Set(["PROVISIONING", "STAGING", "RUNNING", "REPAIRING"]);

const last = (link: string) => link.split("/").pop() ?? "";

/** A compute `filter` matching this stack's burst VMs (AND of label equalities, values quoted). */
export function burstFilter(stack: string): string {
  const eq = (k: string, v: string) => `(labels.${k} = "${v}")`;
  return [eq(LABELS.managedBy, MANAGED_BY), eq(LABELS.area, "burst"), eq(LABELS.stack, toLabelValue(stack))].join(
    " AND ",
  );
}

/** A time Google wrote (RFC 3339 with an offset) as ISO UTC, or null when it is not one. */
function isoOrNull(v: unknown): string | null {
  if (typeof v !== "string" || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * The burst area as GCP has it: this stack's burst VMs (labels), with their creation time and the
 * last busy time the VM itself reports. A VM preempted (DELETE) or deleted by hand is simply absent,
 * so decide sees it gone; one that is stopping or stopped no longer counts as running.
 * Any failure to list throws: the cycle then fails closed rather than guessing the fleet.
 */
export class GcpBurstReader implements FleetReader {
  constructor(
    private readonly auth: GcpAuth,
    private readonly base: string,
    private readonly stack: string,
  ) {}

  async actual(): Promise<ActualFleetInput> {
    const vms: BurstVmObserved[] = [];
    let pageToken = "";
    do {
      const q = new URLSearchParams({ filter: burstFilter(this.stack), maxResults: "500" });
      if (pageToken) q.set("pageToken", pageToken);
      const page = await gcpCall(
        this.base,
        this.auth,
        "GET",
        `projects/${encodeURIComponent(this.auth.project)}/aggregated/instances?${q}`,
      );
      for (const scoped of Object.values<any>(page.items ?? {})) {
        for (const vm of scoped.instances ?? []) {
          if (!LIVE.has(vm.status)) continue;
          const createdAt = isoOrNull(vm.creationTimestamp);
          if (!createdAt || typeof vm.name !== "string")
            throw new Error(`GCP answered a burst VM without a name or creation time (${JSON.stringify(vm.name)})`);
          vms.push({
            name: vm.name,
            zone: last(String(vm.zone)),
            machineType: last(String(vm.machineType)),
            createdAt,
            lastBusyAt: await this.lastBusyAt(last(String(vm.zone)), vm.name),
          });
        }
      }
      pageToken = typeof page.nextPageToken === "string" ? page.nextPageToken : "";
    } while (pageToken);
    return { burst: vms };
  }

  /** The VM's own report of its last busy minute; null when it has written none yet (only the lifetime then applies). */
  private async lastBusyAt(zone: string, name: string): Promise<string | null> {
    const q = new URLSearchParams({ queryPath: `${LAST_BUSY_ATTRIBUTE.namespace}/` });
    try {
      const r = await gcpCall(
        this.base,
        this.auth,
        "GET",
        `projects/${encodeURIComponent(this.auth.project)}/zones/${encodeURIComponent(zone)}/instances/${encodeURIComponent(name)}/getGuestAttributes?${q}`,
      );
      const item = (r.queryValue?.items ?? []).find(
        (i: any) => i?.namespace === LAST_BUSY_ATTRIBUTE.namespace && i?.key === LAST_BUSY_ATTRIBUTE.key,
      );
      return isoOrNull(item?.value);
    } catch (e) {
      // 404: no attribute written yet (or the VM went between the list and this read).
      if (e instanceof GcpHttpError && e.status === 404) return null;
      throw e;
    }
  }
}
