// The engine tests' `pulumi-resource-gcp`: the resources Fleet declares, expanded into Compute
// Engine, IAM and Resource Manager REST calls the way the Terraform provider the published plugin
// bridges expands them (hashicorp/terraform-provider-google, google/services/compute/
// resource_compute_instance.go expandComputeInstance, resource_compute_disk.go,
// resource_compute_firewall.go; google/services/resourcemanager/resource_google_service_account.go;
// iam_project.go). The calls go to the GCP double at FLEET_TEST_GCP_URL (test/doubles/gcp-cloud.ts),
// which checks them against Google's discovery documents. The project is the provider's:
// GOOGLE_PROJECT, as the real provider reads it; the token GOOGLE_OAUTH_ACCESS_TOKEN, likewise.
import { keepName, kindsProvider, serve, type Kind, type Props } from "./common";

const BASE = process.env.FLEET_TEST_GCP_URL ?? "";
const TOKEN = process.env.GOOGLE_OAUTH_ACCESS_TOKEN ?? "";
const PROJECT = process.env.GOOGLE_PROJECT ?? "";

/** The bridged provider's attribution label (pulumi-gcp v8+ `addPulumiAttributionLabel`, default on). */
const ATTRIBUTION = { "goog-pulumi-provisioned": "true" };

class NotFound extends Error {}

async function call(
  api: "compute/v1" | "iam/v1" | "crm/v1",
  verb: string,
  rel: string,
  body?: unknown,
): Promise<Props> {
  const res = await fetch(`${BASE}${api}/${rel}`, {
    method: verb,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (res.status === 404) throw new NotFound(json.error?.message ?? "not found");
  // The Go client's error text: "googleapi: Error 400: <message>, <reason>".
  if (!res.ok)
    throw new Error(
      `googleapi: Error ${res.status}: ${json.error?.message}, ${json.error?.errors?.[0]?.reason ?? json.error?.status}`,
    );
  return json;
}

/** A read that treats 404 as gone (the bridge's HandleNotFoundError: the resource leaves the state). */
async function readOrGone(api: "compute/v1" | "iam/v1", rel: string): Promise<Props | undefined> {
  try {
    return await call(api, "GET", rel);
  } catch (e) {
    if (e instanceof NotFound) return undefined;
    throw e;
  }
}

const last = (link: string) => link.split("/").pop()!;

/** tpgresource.resolveImage for the forms Fleet uses: `project/family` and full or partial links. */
function imageLink(image: string): string {
  if (/^(https:|projects\/|global\/)/.test(image)) return image;
  const parts = image.split("/");
  if (parts.length === 2) return `projects/${parts[0]}/global/images/family/${parts[1]}`;
  return `global/images/family/${image}`;
}

function networkLink(project: string, network?: string): string {
  if (!network) return `projects/${project}/global/networks/default`;
  return /^(https:|projects\/)/.test(network) ? network : `projects/${project}/global/networks/${network}`;
}

// ---- compute.Instance ------------------------------------------------------------------------

const INSTANCE_FIELDS = [
  "name",
  "zone",
  "project",
  "machineType",
  "bootDisk",
  "attachedDisks",
  "networkInterfaces",
  "scheduling",
  "serviceAccount",
  "labels",
  "metadata",
  "metadataStartupScript",
  "shieldedInstanceConfig",
  "tags",
  "description",
  "hostname",
];
/**
 * ForceNew in resource_compute_instance.go: name, zone, project, boot_disk (all of it),
 * network_interface (the list), metadata_startup_script, description, hostname,
 * scheduling.preemptible, scheduling.provisioning_model, scheduling.max_run_duration.
 * Updatable: machine_type (stopping when allow_stopping_for_update), labels, metadata, tags,
 * the other scheduling fields, service_account, attached_disk.
 */
const INSTANCE_FORCE_NEW = [
  "name",
  "zone",
  "project",
  "bootDisk",
  "networkInterfaces",
  "metadataStartupScript",
  "description",
  "hostname",
  "scheduling.preemptible",
  "scheduling.provisioningModel",
  "scheduling.maxRunDuration",
];

function instanceScheduling(s: Props | undefined): Props | undefined {
  if (!s) return undefined;
  const out: Props = {
    automaticRestart: s.automaticRestart ?? true,
    onHostMaintenance: s.onHostMaintenance,
    preemptible: s.preemptible ?? false,
    provisioningModel: s.provisioningModel,
    instanceTerminationAction: s.instanceTerminationAction,
  };
  if (s.maxRunDuration)
    out.maxRunDuration = {
      seconds: String(s.maxRunDuration.seconds),
      ...(s.maxRunDuration.nanos ? { nanos: s.maxRunDuration.nanos } : {}),
    };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

function instanceMetadata(i: Props): Props {
  const items = Object.entries(i.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) }));
  if (i.metadataStartupScript !== undefined) {
    if (i.metadata?.["startup-script"] !== undefined)
      throw new Error("Cannot provide both metadata_startup_script and metadata.startup-script.");
    items.push({ key: "startup-script", value: i.metadataStartupScript });
  }
  return { items };
}

/** expandComputeInstance, for the fields Fleet sets. */
function expandInstance(i: Props, project: string): Props {
  const zone = i.zone;
  const boot = i.bootDisk ?? {};
  const disks: Props[] = [
    {
      boot: true,
      autoDelete: boot.autoDelete ?? true,
      ...(boot.deviceName ? { deviceName: boot.deviceName } : {}),
      initializeParams: {
        ...(boot.initializeParams?.image ? { sourceImage: imageLink(boot.initializeParams.image) } : {}),
        ...(boot.initializeParams?.size ? { diskSizeGb: String(boot.initializeParams.size) } : {}),
      },
    },
  ];
  for (const d of i.attachedDisks ?? [])
    disks.push({
      source: d.source,
      ...(d.deviceName ? { deviceName: d.deviceName } : {}),
      mode: d.mode ?? "READ_WRITE",
    });
  const body: Props = {
    name: i.name,
    machineType: /^(https:|projects\/|zones\/)/.test(i.machineType)
      ? i.machineType
      : `projects/${project}/zones/${zone}/machineTypes/${i.machineType}`,
    disks,
    networkInterfaces: (i.networkInterfaces ?? []).map((n: Props) => ({
      network: networkLink(project, n.network),
      ...(n.subnetwork ? { subnetwork: n.subnetwork } : {}),
      accessConfigs: (n.accessConfigs ?? []).map((a: Props) => ({
        type: "ONE_TO_ONE_NAT",
        ...(a.natIp ? { natIP: a.natIp } : {}),
        ...(a.networkTier ? { networkTier: a.networkTier } : {}),
      })),
    })),
    metadata: instanceMetadata(i),
    labels: { ...(i.labels ?? {}), ...ATTRIBUTION },
    canIpForward: false,
    deletionProtection: false,
  };
  const scheduling = instanceScheduling(i.scheduling);
  if (scheduling) body.scheduling = scheduling;
  if (i.serviceAccount)
    body.serviceAccounts = [{ email: i.serviceAccount.email, scopes: i.serviceAccount.scopes ?? [] }];
  if (i.tags?.length) body.tags = { items: i.tags };
  if (i.description) body.description = i.description;
  if (i.shieldedInstanceConfig) body.shieldedInstanceConfig = pick(i.shieldedInstanceConfig, SHIELDED_FIELDS);
  return body;
}

/** resourceComputeInstanceRead: the Pulumi outputs of an instance as the API returns it. */
function flattenInstance(inputs: Props, vm: Props, project: string): Props {
  const md: Record<string, string> = {};
  let startup: string | undefined;
  for (const it of vm.metadata?.items ?? []) {
    if (it.key === "startup-script" && inputs.metadataStartupScript !== undefined) startup = it.value;
    else md[it.key] = it.value;
  }
  const userLabels = Object.fromEntries(Object.entries(vm.labels ?? {}).filter(([k]) => k in (inputs.labels ?? {})));
  const boot = (vm.disks ?? []).find((d: Props) => d.boot) ?? {};
  return {
    ...inputs,
    project,
    name: vm.name,
    zone: last(vm.zone),
    machineType: last(vm.machineType),
    instanceId: vm.id,
    selfLink: vm.selfLink,
    currentStatus: vm.status,
    cpuPlatform: vm.cpuPlatform,
    labels: userLabels,
    effectiveLabels: vm.labels ?? {},
    pulumiLabels: { ...userLabels, ...ATTRIBUTION },
    labelFingerprint: vm.labelFingerprint,
    metadata: md,
    ...(startup !== undefined ? { metadataStartupScript: startup } : {}),
    metadataFingerprint: vm.metadata?.fingerprint,
    tags: vm.tags?.items ?? [],
    tagsFingerprint: vm.tags?.fingerprint,
    bootDisk: {
      ...(inputs.bootDisk ?? {}),
      source: boot.source,
      deviceName: boot.deviceName,
      autoDelete: boot.autoDelete,
    },
    attachedDisks: (vm.disks ?? [])
      .filter((d: Props) => !d.boot)
      .map((d: Props) => ({
        source: d.source.replace(/^https:\/\/www\.googleapis\.com\/compute\/v1\//, ""),
        deviceName: d.deviceName,
        mode: d.mode,
      })),
    networkInterfaces: (vm.networkInterfaces ?? []).map((n: Props, idx: number) => ({
      ...(inputs.networkInterfaces?.[idx] ?? {}),
      name: n.name,
      networkIp: n.networkIP,
      accessConfigs: (n.accessConfigs ?? []).map((a: Props) => ({ natIp: a.natIP, networkTier: a.networkTier })),
    })),
    scheduling: inputs.scheduling
      ? {
          ...inputs.scheduling,
          ...pick(vm.scheduling, [
            "automaticRestart",
            "onHostMaintenance",
            "preemptible",
            "provisioningModel",
            "instanceTerminationAction",
          ]),
        }
      : undefined,
    shieldedInstanceConfig: vm.shieldedInstanceConfig ? pick(vm.shieldedInstanceConfig, SHIELDED_FIELDS) : undefined,
    serviceAccount: vm.serviceAccounts?.[0]
      ? { email: vm.serviceAccounts[0].email, scopes: vm.serviceAccounts[0].scopes }
      : undefined,
  };
}

const SHIELDED_FIELDS = ["enableSecureBoot", "enableVtpm", "enableIntegrityMonitoring"];

function pick(o: Props | undefined, keys: string[]): Props {
  return Object.fromEntries(keys.filter((k) => o?.[k] !== undefined).map((k) => [k, o![k]]));
}

function instanceRel(project: string, zone: string, name: string) {
  return `projects/${project}/zones/${zone}/instances/${name}`;
}

async function updateInstance(id: string, olds: Props, news: Props): Promise<void> {
  const rel = id;
  const changed = (f: string) => JSON.stringify(olds[f] ?? null) !== JSON.stringify(news[f] ?? null);
  const vm = await call("compute/v1", "GET", rel);
  if (changed("labels"))
    await call("compute/v1", "POST", `${rel}/setLabels`, {
      labels: { ...(news.labels ?? {}), ...ATTRIBUTION },
      labelFingerprint: vm.labelFingerprint,
    });
  if (changed("metadata"))
    await call("compute/v1", "POST", `${rel}/setMetadata`, {
      ...instanceMetadata(news),
      fingerprint: vm.metadata.fingerprint,
    });
  if (changed("tags"))
    await call("compute/v1", "POST", `${rel}/setTags`, { items: news.tags ?? [], fingerprint: vm.tags.fingerprint });
  if (changed("scheduling"))
    await call("compute/v1", "POST", `${rel}/setScheduling`, instanceScheduling(news.scheduling));
  // shielded_instance_config changes need updateShieldedInstanceConfig on a stopped VM; Fleet
  // declares one constant config, so this plugin refuses the change rather than fake it.
  if (changed("shieldedInstanceConfig"))
    throw new Error("test gcp plugin: changing shieldedInstanceConfig is not implemented");
  if (changed("machineType") || changed("serviceAccount")) {
    // Both need a stopped VM: refused unless allow_stopping_for_update (the bridge's message).
    if (!news.allowStoppingForUpdate)
      throw new Error(
        'Changing the machine_type, min_cpu_platform, service_account, enable_display, shielded_instance_config, scheduling.node_affinities or network_interface.[#d].(network/subnetwork/subnetwork_project) or advanced_machine_features on a started instance requires stopping it. To acknowledge this, please set allow_stopping_for_update = true in your config. You can also stop it by setting desired_status = "TERMINATED", but the instance will not be restarted after the update.',
      );
    await call("compute/v1", "POST", `${rel}/stop`);
    if (changed("machineType"))
      await call("compute/v1", "POST", `${rel}/setMachineType`, {
        machineType: `zones/${news.zone}/machineTypes/${news.machineType}`,
      });
    if (changed("serviceAccount"))
      await call("compute/v1", "POST", `${rel}/setServiceAccount`, {
        email: news.serviceAccount?.email,
        scopes: news.serviceAccount?.scopes ?? [],
      });
    await call("compute/v1", "POST", `${rel}/start`);
  }
}

// ---- the provider ----------------------------------------------------------------------------

const withProject = (i: Props) => i.project ?? PROJECT;

const KINDS: Record<string, Kind> = {
  "gcp:compute/instance:Instance": {
    fields: INSTANCE_FIELDS,
    forceNew: INSTANCE_FORCE_NEW,
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      await call("compute/v1", "GET", `projects/${project}/zones/${i.zone}`); // Zones.Get, as the bridge does first
      await call("compute/v1", "POST", `projects/${project}/zones/${i.zone}/instances`, expandInstance(i, project));
      const id = instanceRel(project, i.zone, i.name);
      return { id, outs: flattenInstance(i, await call("compute/v1", "GET", id), project) };
    },
    async read(id, i) {
      const vm = await readOrGone("compute/v1", id);
      return vm && flattenInstance(i, vm, id.split("/")[1]!);
    },
    update: updateInstance,
    async delete(id) {
      await call("compute/v1", "DELETE", id);
    },
  },
  // resource_compute_disk.go: name, zone, project, type, image ForceNew; size grows in place
  // (a smaller size is ForceNew through its CustomizeDiff); labels update in place.
  "gcp:compute/disk:Disk": {
    fields: ["name", "zone", "project", "type", "image", "size", "labels"],
    forceNew: ["name", "zone", "project", "type", "image"],
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      const body: Props = { name: i.name, labels: { ...(i.labels ?? {}), ...ATTRIBUTION } };
      if (i.size !== undefined) body.sizeGb = String(i.size);
      if (i.type) body.type = `projects/${project}/zones/${i.zone}/diskTypes/${i.type}`;
      if (i.image) body.sourceImage = imageLink(i.image);
      await call("compute/v1", "POST", `projects/${project}/zones/${i.zone}/disks`, body);
      const id = `projects/${project}/zones/${i.zone}/disks/${i.name}`;
      return { id, outs: flattenDisk(i, await call("compute/v1", "GET", id), project) };
    },
    async read(id, i) {
      const d = await readOrGone("compute/v1", id);
      return d && flattenDisk(i, d, id.split("/")[1]!);
    },
    async update(id, olds, news) {
      const d = await call("compute/v1", "GET", id);
      if (Number(news.size) !== Number(olds.size))
        await call("compute/v1", "POST", `${id}/resize`, { sizeGb: String(news.size) });
      if (JSON.stringify(olds.labels ?? {}) !== JSON.stringify(news.labels ?? {}))
        await call("compute/v1", "POST", `${id}/setLabels`, {
          labels: { ...(news.labels ?? {}), ...ATTRIBUTION },
          labelFingerprint: d.labelFingerprint,
        });
    },
    async delete(id) {
      await call("compute/v1", "DELETE", id);
    },
  },
  // resource_compute_firewall.go: name, network, direction, project ForceNew; the rest PATCHed.
  "gcp:compute/firewall:Firewall": {
    fields: ["name", "network", "direction", "project", "sourceRanges", "allows", "targetTags", "priority"],
    forceNew: ["name", "network", "direction", "project"],
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      await call("compute/v1", "POST", `projects/${project}/global/firewalls`, expandFirewall(i, project));
      const id = `projects/${project}/global/firewalls/${i.name}`;
      return { id, outs: { ...i, project, selfLink: (await call("compute/v1", "GET", id)).selfLink } };
    },
    async read(id, i) {
      const fw = await readOrGone("compute/v1", id);
      if (!fw) return undefined;
      return {
        ...i,
        name: fw.name,
        direction: fw.direction,
        sourceRanges: fw.sourceRanges ?? [],
        targetTags: fw.targetTags ?? [],
        allows: (fw.allowed ?? []).map((a: Props) => ({ protocol: a.IPProtocol, ports: a.ports ?? [] })),
      };
    },
    async update(id, _olds, news) {
      const { name: _n, network: _w, direction: _d, ...patch } = expandFirewall(news, withProject(news));
      await call("compute/v1", "PATCH", id, patch);
    },
    async delete(id) {
      await call("compute/v1", "DELETE", id);
    },
  },
  // resource_compute_network.go: name, description, auto_create_subnetworks, project ForceNew
  // (routing_mode is PATCHed; Fleet does not set it).
  "gcp:compute/network:Network": {
    fields: ["name", "description", "autoCreateSubnetworks", "project"],
    forceNew: ["name", "description", "autoCreateSubnetworks", "project"],
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      const body = { name: i.name, description: i.description, autoCreateSubnetworks: i.autoCreateSubnetworks ?? true };
      await call("compute/v1", "POST", `projects/${project}/global/networks`, body);
      const id = `projects/${project}/global/networks/${i.name}`;
      return { id, outs: flattenNetwork(i, await call("compute/v1", "GET", id), project) };
    },
    async read(id, i) {
      const n = await readOrGone("compute/v1", id);
      return n && flattenNetwork(i, n, id.split("/")[1]!);
    },
    async delete(id) {
      await call("compute/v1", "DELETE", id);
    },
  },
  // resource_compute_router.go: name, network, region, project ForceNew; description and bgp PATCHed.
  "gcp:compute/router:Router": {
    fields: ["name", "network", "region", "description", "project"],
    forceNew: ["name", "network", "region", "project"],
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      const body = { name: i.name, network: networkLink(project, i.network), description: i.description };
      await call("compute/v1", "POST", `projects/${project}/regions/${i.region}/routers`, body);
      const id = `projects/${project}/regions/${i.region}/routers/${i.name}`;
      return { id, outs: flattenRouter(i, await call("compute/v1", "GET", id), project) };
    },
    async read(id, i) {
      const r = await readOrGone("compute/v1", id);
      return r && flattenRouter(i, r, id.split("/")[1]!);
    },
    async update(id, _olds, news) {
      await call("compute/v1", "PATCH", id, { description: news.description });
    },
    async delete(id) {
      await call("compute/v1", "DELETE", id);
    },
  },
  // resource_compute_router_nat.go: a NAT is an entry of its router's `nats`, written with a
  // read-modify-PATCH of the router; name, router, region, project ForceNew, the rest updatable.
  "gcp:compute/routerNat:RouterNat": {
    fields: ["name", "router", "region", "natIpAllocateOption", "sourceSubnetworkIpRangesToNat", "project"],
    forceNew: ["name", "router", "region", "project"],
    check: (urn, olds, news) => keepName(olds, news, urn),
    async create(i) {
      const project = withProject(i);
      const router = `projects/${project}/regions/${i.region}/routers/${i.router}`;
      const nats = ((await call("compute/v1", "GET", router)).nats ?? []) as Props[];
      await call("compute/v1", "PATCH", router, { nats: [...nats, expandNat(i)] });
      return { id: `${router}/${i.name}`, outs: { ...i, project } };
    },
    async read(id, i) {
      const [router, name] = [id.slice(0, id.lastIndexOf("/")), id.split("/").pop()];
      const r = await readOrGone("compute/v1", router);
      const nat = ((r?.nats ?? []) as Props[]).find((n) => n.name === name);
      if (!nat) return undefined;
      return { ...i, name, natIpAllocateOption: nat.natIpAllocateOption, sourceSubnetworkIpRangesToNat: nat.sourceSubnetworkIpRangesToNat };
    },
    async update(id, _olds, news) {
      const router = id.slice(0, id.lastIndexOf("/"));
      const nats = ((await call("compute/v1", "GET", router)).nats ?? []) as Props[];
      await call("compute/v1", "PATCH", router, { nats: nats.map((n) => (n.name === news.name ? expandNat(news) : n)) });
    },
    async delete(id) {
      const [router, name] = [id.slice(0, id.lastIndexOf("/")), id.split("/").pop()];
      const nats = ((await call("compute/v1", "GET", router)).nats ?? []) as Props[];
      await call("compute/v1", "PATCH", router, { nats: nats.filter((n) => n.name !== name) });
    },
  },
  // resource_google_service_account.go: account_id and project ForceNew; display_name and
  // description PATCHed.
  "gcp:serviceaccount/account:Account": {
    fields: ["accountId", "project", "displayName", "description"],
    forceNew: ["accountId", "project"],
    async create(i) {
      const project = withProject(i);
      const sa = await call("iam/v1", "POST", `projects/${project}/serviceAccounts`, {
        accountId: i.accountId,
        serviceAccount: { displayName: i.displayName, description: i.description },
      });
      return { id: sa.name, outs: flattenAccount(i, sa) };
    },
    async read(id, i) {
      const sa = await readOrGone("iam/v1", id);
      return sa && flattenAccount(i, sa);
    },
    async update(id, _olds, news) {
      await call("iam/v1", "PATCH", id, {
        serviceAccount: { displayName: news.displayName, description: news.description },
        updateMask: "displayName,description",
      });
    },
    async delete(id) {
      await call("iam/v1", "DELETE", id);
    },
  },
  // iam_project.go / resource_iam_member.go: project, role, member, condition all ForceNew; each
  // change is a getIamPolicy + setIamPolicy read-modify-write guarded by the etag.
  "gcp:projects/iAMMember:IAMMember": {
    fields: ["project", "role", "member", "condition"],
    forceNew: ["project", "role", "member", "condition"],
    async create(i) {
      await editPolicy(i.project, (bindings) => {
        const b = bindings.find((x) => x.role === i.role && !x.condition);
        if (b) b.members = [...new Set([...b.members, i.member])];
        else bindings.push({ role: i.role, members: [i.member] });
      });
      return { id: `${i.project}/${i.role}/${i.member}`, outs: { ...i, etag: "" } };
    },
    async read(_id, i) {
      const policy = await call("crm/v1", "POST", `projects/${i.project}:getIamPolicy`, {});
      const has = (policy.bindings ?? []).some((b: Props) => b.role === i.role && (b.members ?? []).includes(i.member));
      return has ? { ...i, etag: policy.etag } : undefined;
    },
    async delete(_id, i) {
      await editPolicy(i.project, (bindings) => {
        for (const b of bindings) if (b.role === i.role) b.members = b.members.filter((m: string) => m !== i.member);
      });
    },
  },
};

/**
 * The Terraform provider's iamPolicyReadModifyWrite (google/tpgiamresource/iam.go): one policy edit
 * at a time per project (its mutexKV on the updater's mutex key), and a read-modify-write that
 * starts over when setIamPolicy answers 409 (concurrent change), with backoff.
 */
const policyLocks = new Map<string, Promise<unknown>>();
async function editPolicy(project: string, edit: (bindings: Props[]) => void) {
  const prev = policyLocks.get(project) ?? Promise.resolve();
  const mine = prev.then(async () => {
    for (let attempt = 0; ; attempt++) {
      const policy = await call("crm/v1", "POST", `projects/${project}:getIamPolicy`, {});
      const bindings: Props[] = policy.bindings ?? [];
      edit(bindings);
      try {
        await call("crm/v1", "POST", `projects/${project}:setIamPolicy`, {
          policy: { ...policy, bindings: bindings.filter((b) => b.members.length) },
        });
        return;
      } catch (e) {
        if (!/Error 409/.test(String(e)) || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  });
  policyLocks.set(
    project,
    mine.catch(() => {}),
  );
  await mine;
}

function flattenDisk(i: Props, d: Props, project: string): Props {
  const userLabels = Object.fromEntries(Object.entries(d.labels ?? {}).filter(([k]) => k in (i.labels ?? {})));
  return {
    ...i,
    project,
    name: d.name,
    size: Number(d.sizeGb),
    labels: userLabels,
    effectiveLabels: d.labels ?? {},
    labelFingerprint: d.labelFingerprint,
    selfLink: d.selfLink,
    users: d.users ?? [],
  };
}

function expandFirewall(i: Props, project: string): Props {
  return {
    name: i.name,
    network: networkLink(project, i.network),
    direction: i.direction ?? "INGRESS",
    ...(i.priority !== undefined ? { priority: i.priority } : {}),
    sourceRanges: i.sourceRanges ?? [],
    targetTags: i.targetTags ?? [],
    allowed: (i.allows ?? []).map((a: Props) => ({ IPProtocol: a.protocol, ...(a.ports ? { ports: a.ports } : {}) })),
  };
}

function flattenNetwork(i: Props, n: Props, project: string): Props {
  return { ...i, project, name: n.name, autoCreateSubnetworks: n.autoCreateSubnetworks, selfLink: n.selfLink };
}

function flattenRouter(i: Props, r: Props, project: string): Props {
  return { ...i, project, name: r.name, network: i.network, description: r.description, selfLink: r.selfLink };
}

function expandNat(i: Props): Props {
  return {
    name: i.name,
    natIpAllocateOption: i.natIpAllocateOption,
    sourceSubnetworkIpRangesToNat: i.sourceSubnetworkIpRangesToNat,
  };
}

function flattenAccount(i: Props, sa: Props): Props {
  return {
    ...i,
    name: sa.name,
    email: sa.email,
    uniqueId: sa.uniqueId,
    project: sa.projectId,
    member: `serviceAccount:${sa.email}`,
    displayName: sa.displayName,
    description: sa.description,
  };
}

const gcpProvider = kindsProvider({
  pkg: "gcp",
  version: "9.37.0",
  kinds: KINDS,
  defaults: (inputs) => (inputs.project === undefined && PROJECT ? { ...inputs, project: PROJECT } : inputs),
  isGone: (e) => e instanceof NotFound, // already gone: deleted, as the bridge treats a 404
});

if (require.main === module) void serve(gcpProvider);
