import * as command from "@pulumi/command";
import * as gcp from "@pulumi/gcp";
import { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } from "../reconciler/model/hardening";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { LABELS, fleetLabels, type Pair, type StandbyPolicy } from "../reconciler/model";
import { VastInstance } from "./providers/vast";
import { renderShellTemplate, renderTemplate } from "./template";

export interface StandbyPairArgs {
  pair: Pair;
  owner: string;
  policy: StandbyPolicy;
  /** Vast API base URL override (tests, proxies). */
  vastApiUrl?: string;
}

const PRIVATE_OUTPUTS = ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"];

/** How the GPU's sync install stops an older loop: by its whole command line (a bare pattern matched the install's own shell). */
export const SYNC_STOP = "pkill -xf '(/usr)?/bin/bash /usr/local/bin/fleet-sync' || true";

/** ssh dials to a GPU host: at most this many, each given this many seconds. */
export const SSH_DIAL_LIMIT = 4;
/** GCP firewall priorities (lower wins): the GPU's allow above the standby's deny-all-ssh. */
export const STANDBY_SSH_ALLOW_PRIORITY = 900;
export const STANDBY_SSH_DENY_PRIORITY = 1000;
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
 *   work survives the VM; SSH to it is open only from the GPU's address.
 * - standby.target vast: a Vast.ai CPU instance (on-demand) whose disk holds the copy in /data.
 * What holds the copy is protected while the pair is not running, so no apply can delete the only
 * copy of a lost GPU's work. The pair's key and the standby's host key are generated here (private
 * parts are secrets), and a remote command installs the sync on the GPU host with that host key pinned.
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
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
    this.privateKey = pulumi.secret(syncKey.privateKeyOpenssh);
    const protect = pair.state !== "running";
    const standbySecrets = pulumi.all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh, syncKey.publicKeyOpenssh]);

    let endpoint: SyncEndpoint;
    let standbyReady: pulumi.Resource;
    let gcpTag: string | undefined;
    if (pair.standby.target === "gcp") {
      const zone = `${pair.standby.region}-b`;
      // The data disk outlives the VM (its own resource).
      const disk = new gcp.compute.Disk(`${name}-data`, { zone, size: pair.standby.diskGb, type: "pd-balanced", labels }, { parent: this, protect });
      const startup = standbySecrets.apply(([hostPriv, hostPub, syncPub]) => renderShellTemplate("standby-startup.sh", { PAIR_ID: pair.pairId, HOST_PRIVATE_KEY: hostPriv.trim(), HOST_PUBLIC_KEY: hostPub.trim(), SYNC_PUBLIC_KEY: syncPub.trim() }, ["HOST_PRIVATE_KEY"]));
      gcpTag = `fleet-standby-${pair.pairId}`;
      const vm = new gcp.compute.Instance(`${name}-standby`, {
        zone,
        machineType: pair.standby.machineType,
        bootDisk: { autoDelete: true, initializeParams: { image: "debian-cloud/debian-12", size: 10 } },
        attachedDisks: [{ source: disk.id, deviceName: "data" }],
        networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
        // Spot; STOP on preemption so the VM (and with it the attached disk) is kept.
        scheduling: { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" },
        tags: [gcpTag],
        // Its price is not known at boot: the label carries the most it may cost (the price policies
        // then count the standby at its ceiling, which can only make them stricter).
        labels: labelsAt(policy.standbyMaxHourUsd),
        // In metadata (updated in place), not metadataStartupScript (its change replaces the VM).
        shieldedInstanceConfig: GCP_SHIELDED_VM,
        metadata: { ...GCP_LOGIN_METADATA, "startup-script": pulumi.secret(startup) },
        allowStoppingForUpdate: true,
      }, { parent: this });
      // A default network comes with `default-allow-ssh` (tcp:22 from 0.0.0.0/0, priority 65534),
      // which would open the standby (the only copy of a lost GPU's work) to the internet. This deny
      // rule shadows it for the standby; the GPU's own allow rule below sits above it (priority 900).
      new gcp.compute.Firewall(`${name}-ssh-deny`, {
        network: "default",
        direction: "INGRESS",
        priority: STANDBY_SSH_DENY_PRIORITY,
        sourceRanges: ["0.0.0.0/0"],
        denies: [{ protocol: "tcp", ports: ["22"] }],
        targetTags: [gcpTag],
      }, { parent: this });
      this.dataHolder = disk;
      this.diskName = disk.name;
      standbyReady = vm;
      endpoint = { host: vm.networkInterfaces.apply((n) => n[0]?.accessConfigs?.[0]?.natIp ?? ""), port: pulumi.output(22), user: "fleet" };
    } else {
      const onstart = standbySecrets.apply(([hostPriv, hostPub, syncPub]) => renderShellTemplate("vast-standby-onstart.sh", { PAIR_ID: pair.pairId, HOST_PRIVATE_KEY: hostPriv.trim(), HOST_PUBLIC_KEY: hostPub.trim(), SYNC_PUBLIC_KEY: syncPub.trim() }, ["HOST_PRIVATE_KEY"]));
      const standby = new VastInstance(`${name}-standby`, {
        offerId: pair.standby.offerId,
        pairId: pair.pairId,
        role: "standby",
        image: policy.vastStandby.image,
        diskGb: pair.standby.diskGb,
        onstart: pulumi.secret(onstart),
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
      const gpu = new VastInstance(`${name}-gpu`, {
        offerId: pair.gpu.offerId,
        pairId: pair.pairId,
        image: policy.gpu.image,
        diskGb: policy.gpu.diskGb,
        labels: labelsAt(pair.gpu.dphUsd),
        onstart: pulumi.interpolate`mkdir -p /root/.ssh && echo '${syncKey.publicKeyOpenssh}' >> /root/.ssh/authorized_keys`,
        apiUrl: args.vastApiUrl,
      }, { parent: this });
      this.gpuIp = gpu.publicIp;
      const dependsOn: pulumi.Resource[] = [standbyReady];
      if (gcpTag) {
        dependsOn.push(new gcp.compute.Firewall(`${name}-ssh`, {
          network: "default",
          direction: "INGRESS",
          priority: STANDBY_SSH_ALLOW_PRIORITY,
          sourceRanges: [pulumi.interpolate`${gpu.publicIp}/32`],
          allows: [{ protocol: "tcp", ports: ["22"] }],
          targetTags: [gcpTag],
        }, { parent: this }));
      }
      const install = pulumi
        .all([syncKey.privateKeyOpenssh, hostKey.publicKeyOpenssh, endpoint.host, endpoint.port])
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
        connection: { host: gpu.sshHost, port: gpu.sshPort, user: "root", privateKey: syncKey.privateKeyOpenssh, dialErrorLimit: SSH_DIAL_LIMIT, perDialTimeout: SSH_DIAL_TIMEOUT_S },
        create: pulumi.secret(install),
      }, { parent: this, dependsOn, deletedWith: gpu });
    } else {
      this.gpuIp = pulumi.output(undefined);
    }
    this.registerOutputs({ standbyIp: this.standbyIp, gpuIp: this.gpuIp, diskName: this.diskName });
  }
}
