import * as command from "@pulumi/command";
import * as gcp from "@pulumi/gcp";
import { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } from "../reconciler/model/hardening";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { LABELS, fleetLabels, type Pair, type StandbyPolicy } from "../reconciler/model";
import { GuestHostKey } from "./providers/guest-host-key";
import { VastInstance } from "./providers/vast";
import type { GcpNetworkRef } from "./network";
import { renderShellTemplate, renderTemplate } from "./template";

/** The only command the sync key may run on a standby (its authorized_keys forces it). */
const SERVE_SCRIPT = renderTemplate("standby-sync-serve.sh", {});

/** A Vast instance's environment carrying its SSH host key (base64: one shell-safe word), a secret. */
function hostKeyEnv(key: tls.PrivateKey): pulumi.Input<Record<string, string>> {
  const env = key.privateKeyOpenssh.apply((k): Record<string, string> => ({ FLEET_HOST_KEY: Buffer.from(k.trim() + "\n").toString("base64") }));
  return pulumi.secret(env);
}

export interface StandbyPairArgs {
  pair: Pair;
  owner: string;
  policy: StandbyPolicy;
  /** Fleet's network (stacks/network.ts), for a GCP standby. */
  network?: GcpNetworkRef;
  /** Vast API base URL override (tests, proxies). */
  vastApiUrl?: string;
}

const PRIVATE_OUTPUTS = ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"];

/** How the GPU's sync install stops an older loop: by its whole command line (a bare pattern matched the install's own shell). */
export const SYNC_STOP = "pkill -xf '(/usr)?/bin/bash /usr/local/bin/fleet-sync' || true";

/** ssh dials to a GPU host: at most this many, each given this many seconds. */
export const SSH_DIAL_LIMIT = 4;
export const SSH_DIAL_TIMEOUT_S = 15;

/** Where the GPU host copies to: an ssh endpoint and the user that owns /data there. */
interface SyncEndpoint {
  host: pulumi.Output<string>;
  port: pulumi.Output<number>;
  user: string;
}

/** The host part of a known_hosts line: `host`, or `[host]:port` off port 22. */
export function knownHostField(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * StandbyPair: a Vast.ai GPU instance and its CPU standby, which holds the GPU's work.
 * - standby.target gcp: a Spot VM on the GPU's continent whose data disk is its own resource, so the
 *   work survives the VM; on Fleet's network, where SSH is open only from the GPU's address.
 * - standby.target vast: a Vast.ai CPU instance (on-demand) whose disk holds the copy in /data.
 * What holds the copy is protected while the pair is not running, so no apply can delete the only
 * copy of a lost GPU's work. No private key is in any startup script or onstart: the GCP standby
 * makes its own host key and publishes the public half (read back through Compute Engine's API);
 * Vast instances get the host keys Fleet makes for them in their environment (Vast's API). The
 * install reaches the GPU over ssh with the GPU's host key pinned, carrying the pair's sync key and
 * pinning the standby's host key; on the standby that key can run the sync and nothing else.
 */
export class StandbyPair extends pulumi.ComponentResource {
  readonly privateKey: pulumi.Output<string>;
  readonly standbyIp: pulumi.Output<string>;
  readonly gpuIp: pulumi.Output<string | undefined>;
  /** The GCP data disk's name, or the Vast standby instance's label. */
  readonly diskName: pulumi.Output<string>;
  /** The resource that holds the copy: the GCP data disk or the Vast standby instance. */
  readonly dataHolder: pulumi.CustomResource;

  constructor(name: string, args: StandbyPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:standby:StandbyPair", name, {}, opts);
    const { pair, policy } = args;
    const labelsAt = (hourUsd?: number) =>
      fleetLabels({ stack: pulumi.getStack(), area: "standby", owner: args.owner, expiresAt: "never", hourUsd, extra: { [LABELS.pair]: pair.pairId } });
    const labels = labelsAt();

    const syncKey = new tls.PrivateKey(`${name}-sync-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
    /** The standby's host public key, which the GPU pins: made by the standby (GCP) or by Fleet (Vast). */
    let hostPublicKey: pulumi.Output<string>;
    this.privateKey = pulumi.secret(syncKey.privateKeyOpenssh);
    const protect = pair.state !== "running";

    let endpoint: SyncEndpoint;
    let standbyReady: pulumi.Resource;
    let gcpTag: string | undefined;
    if (pair.standby.target === "gcp") {
      if (!args.network) throw new Error("StandbyPair: a GCP standby needs Fleet's network (stacks/network.ts)");
      const network = args.network.selfLink;
      const zone = `${pair.standby.region}-b`;
      // The data disk outlives the VM (its own resource).
      const disk = new gcp.compute.Disk(`${name}-data`, { zone, size: pair.standby.diskGb, type: "pd-balanced", labels }, { parent: this, protect });
      // No private key in the script: the VM makes its own host key and publishes the public half.
      const startup = syncKey.publicKeyOpenssh.apply((syncPub) =>
        renderShellTemplate("standby-startup.sh", { PAIR_ID: pair.pairId, SYNC_PUBLIC_KEY: syncPub.trim(), SERVE_SCRIPT }, ["SERVE_SCRIPT"]),
      );
      gcpTag = `fleet-standby-${pair.pairId}`;
      const vm = new gcp.compute.Instance(`${name}-standby`, {
        zone,
        machineType: pair.standby.machineType,
        bootDisk: { autoDelete: true, initializeParams: { image: "debian-cloud/debian-12", size: 10 } },
        attachedDisks: [{ source: disk.id, deviceName: "data" }],
        // The one public address Fleet asks for: the GPU on Vast dials it (only its address may).
        networkInterfaces: [{ network, accessConfigs: [{}] }],
        // Spot; STOP on preemption so the VM (and with it the attached disk) is kept.
        scheduling: { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" },
        tags: [gcpTag],
        // Its price is not known at boot: the label carries the most it may cost (the price policies
        // then count the standby at its ceiling, which can only make them stricter).
        labels: labelsAt(policy.standbyMaxHourUsd),
        // In metadata (updated in place), not metadataStartupScript (its change replaces the VM).
        shieldedInstanceConfig: GCP_SHIELDED_VM,
        metadata: { ...GCP_LOGIN_METADATA, "enable-guest-attributes": "TRUE", "startup-script": startup },
        allowStoppingForUpdate: true,
      }, { parent: this });
      // The host key the VM published, read through Compute Engine's API (authenticated, TLS).
      const published = new GuestHostKey(`${name}-standby-host-key`, {
        project: vm.project,
        zone,
        instanceName: vm.name,
        instanceId: vm.instanceId,
      }, { parent: this });
      hostPublicKey = published.publicKey;
      this.dataHolder = disk;
      this.diskName = disk.name;
      standbyReady = vm;
      endpoint = { host: vm.networkInterfaces.apply((n) => n[0]?.accessConfigs?.[0]?.natIp ?? ""), port: pulumi.output(22), user: "fleet" };
    } else {
      const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
      hostPublicKey = hostKey.publicKeyOpenssh;
      // The host key's private half goes in the instance's environment (Vast's API field for
      // secrets), never in the onstart script; the onstart holds public keys and the serve script.
      const onstart = pulumi.all([hostKey.publicKeyOpenssh, syncKey.publicKeyOpenssh]).apply(([hostPub, syncPub]) =>
        renderShellTemplate("vast-standby-onstart.sh", { PAIR_ID: pair.pairId, HOST_PUBLIC_KEY: hostPub.trim(), SYNC_PUBLIC_KEY: syncPub.trim(), SERVE_SCRIPT }, ["SERVE_SCRIPT"]),
      );
      const standby = new VastInstance(`${name}-standby`, {
        offerId: pair.standby.offerId,
        pairId: pair.pairId,
        role: "standby",
        image: policy.vastStandby.image,
        diskGb: pair.standby.diskGb,
        onstart,
        env: hostKeyEnv(hostKey),
        labels: labelsAt(pair.standby.dphUsd),
        apiUrl: args.vastApiUrl,
      }, { parent: this, protect });
      this.dataHolder = standby;
      this.diskName = standby.label;
      standbyReady = standby;
      endpoint = { host: standby.sshHost, port: standby.sshPort, user: "root" };
    }
    this.standbyIp = endpoint.host;

    // running or restoring: the GPU exists. Its sync install pulls the standby's copy onto the new
    // host first (restore), and only then starts copying back, so a fresh GPU never wipes the copy.
    if (pair.state !== "gpu-lost" && pair.gpu) {
      // The GPU's host key, made here and set through Vast's API: the install below pins it, so the
      // sync's private key never crosses a connection whose host key was not verified.
      const gpuHostKey = new tls.PrivateKey(`${name}-gpu-host-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
      const gpu = new VastInstance(`${name}-gpu`, {
        offerId: pair.gpu.offerId,
        pairId: pair.pairId,
        image: policy.gpu.image,
        diskGb: policy.gpu.diskGb,
        labels: labelsAt(pair.gpu.dphUsd),
        onstart: pulumi.all([gpuHostKey.publicKeyOpenssh, syncKey.publicKeyOpenssh]).apply(([hostPub, loginPub]) =>
          renderShellTemplate("gpu-onstart.sh", { PAIR_ID: pair.pairId, HOST_PUBLIC_KEY: hostPub.trim(), LOGIN_PUBLIC_KEY: loginPub.trim() }),
        ),
        env: hostKeyEnv(gpuHostKey),
        apiUrl: args.vastApiUrl,
      }, { parent: this });
      this.gpuIp = gpu.publicIp;
      const dependsOn: pulumi.Resource[] = [standbyReady];
      if (gcpTag && args.network) {
        // Fleet's network has no other rule, so this is the standby's only way in.
        dependsOn.push(new gcp.compute.Firewall(`${name}-ssh`, {
          network: args.network.selfLink,
          direction: "INGRESS",
          sourceRanges: [pulumi.interpolate`${gpu.publicIp}/32`],
          allows: [{ protocol: "tcp", ports: ["22"] }],
          targetTags: [gcpTag],
        }, { parent: this }));
      }
      const install = pulumi
        .all([syncKey.privateKeyOpenssh, hostPublicKey, endpoint.host, endpoint.port])
        .apply(([priv, hostPub, host, port]) =>
          renderShellTemplate("gpu-sync-install.sh", {
            PAIR_ID: pair.pairId,
            SYNC_PRIVATE_KEY: priv.trim(),
            KNOWN_HOST: knownHostField(host, port),
            HOST_PUBLIC_KEY: hostPub.trim(),
            STANDBY_USER: endpoint.user,
            STANDBY_HOST: host,
            STANDBY_PORT: port,
            SYNC_PATHS: policy.syncPaths.join(" "),
            INTERVAL: policy.syncIntervalSeconds,
            SYNC_SCRIPT: renderTemplate("standby-sync.sh", {}),
          }, ["SYNC_PRIVATE_KEY", "SYNC_SCRIPT"]),
        );
      // No delete command: the sync lives on the GPU, and whatever removes it (the GPU lost, replaced
      // or destroyed) must not need that host. deletedWith alone is not enough: an update refreshes
      // first, a lost GPU leaves the state in that refresh, and its command's delete then dials a dead
      // host (found on the engine, test/engine/standby-lifecycle.test.ts; pulumi-command#104). A new
      // install stops the old loop itself. Dials are bounded (@pulumi/command 1.2's dialErrorLimit
      // and perDialTimeout): a GPU host that stops answering fails an install in about a minute.
      new command.remote.Command(`${name}-sync`, {
        connection: {
          host: gpu.sshHost,
          port: gpu.sshPort,
          user: "root",
          privateKey: syncKey.privateKeyOpenssh,
          hostKey: gpuHostKey.publicKeyOpenssh.apply((k) => k.trim()),
          dialErrorLimit: SSH_DIAL_LIMIT,
          perDialTimeout: SSH_DIAL_TIMEOUT_S,
        },
        create: pulumi.secret(install),
      }, { parent: this, dependsOn, deletedWith: gpu });
    } else {
      this.gpuIp = pulumi.output(undefined);
    }
    this.registerOutputs({ standbyIp: this.standbyIp, gpuIp: this.gpuIp, diskName: this.diskName });
  }
}
