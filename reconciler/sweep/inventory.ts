import { EC2Client, paginateDescribeInstances, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import { parseVastLabel } from "../standby/observe";
import type { VastClient } from "../vast/client";
import type { FoundResource } from "./orphans";
import { gcpCall, type GcpAuth } from "../gcp/rest";

/** One place resources are listed from and deleted in. */
export interface Inventory {
  name: string;
  list(): Promise<FoundResource[]>;
  remove(r: FoundResource): Promise<void>;
}

/** Vast.ai instances labelled as a pair's GPU or Vast standby. */
export function vastInventory(vast: VastClient): Inventory {
  return {
    name: "vast",
    async list() {
      return (await vast.showInstances())
        .filter((i) => parseVastLabel(i.label) !== null)
        .map((i) => ({ provider: "vast" as const, kind: "instance", id: String(i.id), name: i.label!, location: i.status ?? "", labels: { label: i.label! } }));
    },
    remove: (r) => vast.destroyInstance(Number(r.id)),
  };
}

/**
 * GCP Compute Engine instances and disks labelled managed-by=fleet, over the REST API (aggregated
 * lists, every page). Credentials as the Pulumi GCP provider finds them (reconciler/gcp/auth.ts); the base URL honours gcloud's CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE.
 */
export function gcpInventory(args: { auth: GcpAuth; baseUrl: string; timeoutMs?: number }): Inventory {
  const call = (method: string, path: string) => gcpCall(args.baseUrl, args.auth, method, path, args.timeoutMs);
  const listKind = async (kind: "instances" | "disks"): Promise<FoundResource[]> => {
    const out: FoundResource[] = [];
    let pageToken: string | undefined;
    do {
      const q = new URLSearchParams({ filter: "labels.managed-by=fleet", ...(pageToken ? { pageToken } : {}) });
      const page = await call("GET", `projects/${args.auth.project}/aggregated/${kind}?${q}`);
      for (const [scope, entry] of Object.entries<any>(page.items ?? {})) {
        for (const item of entry?.[kind] ?? []) {
          const zone = String(item.zone ?? scope).split("/").pop()!;
          out.push({ provider: "gcp", kind: kind === "instances" ? "instance" : "disk", id: String(item.id ?? item.name), name: String(item.name), location: zone, labels: item.labels ?? {} });
        }
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  };
  return {
    name: "gcp",
    async list() {
      return [...(await listKind("instances")), ...(await listKind("disks"))];
    },
    async remove(r) {
      await call("DELETE", `projects/${args.auth.project}/zones/${r.location}/${r.kind === "instance" ? "instances" : "disks"}/${r.name}`);
    },
  };
}

/** EC2 instances tagged managed-by=fleet (not terminated) in the given regions. */
export function awsInventory(args: { regions: string[]; client: (region: string) => EC2Client }): Inventory {
  return {
    name: "aws",
    async list() {
      const out: FoundResource[] = [];
      for (const region of args.regions) {
        const filters = [{ Name: "tag:managed-by", Values: ["fleet"] }, { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] }];
        for await (const page of paginateDescribeInstances({ client: args.client(region) }, { Filters: filters })) {
          for (const res of page.Reservations ?? []) {
            for (const i of res.Instances ?? []) {
              const labels = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));
              out.push({ provider: "aws", kind: "instance", id: i.InstanceId ?? "", name: labels.Name ?? i.InstanceId ?? "", location: i.Placement?.AvailabilityZone ?? region, labels });
            }
          }
        }
      }
      return out;
    },
    async remove(r) {
      await args.client(r.location.replace(/[a-z]$/, "")).send(new TerminateInstancesCommand({ InstanceIds: [r.id] }));
    },
  };
}
