import * as command from "@pulumi/command";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { Pair, StandbyPolicy } from "../reconciler/model";
import { VastInstance } from "./providers/vast";
import { renderTemplate } from "./template";
import { labelValue } from "../reconciler/sweep/orphans";

export interface StandbyPairArgs {
  pair: Pair;
  owner: string;
  policy: StandbyPolicy;
  /** Vast API base URL override (tests, proxies). */
  vastApiUrl?: string;
}

const PRIVATE_OUTPUTS = ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"];

/**
 * StandbyPair: a Vast.ai GPU instance and its GCP CPU standby. The standby VM (Spot, same continent
 * as the GPU) mounts a data disk that is its own resource, protected while the pair is gpu-lost, so
 * the work survives the GPU and the VM. SSH to the standby is open only from the GPU's address; the
 * pair's key and the standby's host key are generated here (private parts are secrets), and a
 * remote command installs the sync on the GPU host with the standby's host key pinned.
 */
export class StandbyPair extends pulumi.ComponentResource {
  readonly privateKey: pulumi.Output<string>;
  readonly standbyIp: pulumi.Output<string>;
  readonly gpuIp: pulumi.Output<string | undefined>;
  readonly diskName: pulumi.Output<string>;
  readonly dataDisk: gcp.compute.Disk;

  constructor(name: string, args: StandbyPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:standby:StandbyPair", name, {}, opts);
    const { pair, policy } = args;
    const zone = `${pair.standby.region}-b`;
    const labels = { "managed-by": "fleet",
    "fleet-stack": labelValue(pulumi.getStack()), "fleet-area": "standby", owner: args.owner, "expires-at": "never", "fleet-pair": pair.pairId };

    const syncKey = new tls.PrivateKey(`${name}-sync-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
    const hostKey = new tls.PrivateKey(`${name}-host-key`, { algorithm: "ED25519" }, { parent: this, additionalSecretOutputs: PRIVATE_OUTPUTS });
    this.privateKey = pulumi.secret(syncKey.privateKeyOpenssh);

    // The data disk outlives the VM (its own resource) and cannot be deleted while the GPU is lost.
    const disk = new gcp.compute.Disk(`${name}-data`, { zone, size: pair.standby.diskGb, type: "pd-balanced", labels }, { parent: this, protect: pair.state !== "running" });
    this.diskName = disk.name;
    this.dataDisk = disk;

    const startup = pulumi
      .all([hostKey.privateKeyOpenssh, hostKey.publicKeyOpenssh, syncKey.publicKeyOpenssh])
      .apply(([hostPriv, hostPub, syncPub]) => renderTemplate("standby-startup.sh", { PAIR_ID: pair.pairId, HOST_PRIVATE_KEY: hostPriv.trim(), HOST_PUBLIC_KEY: hostPub.trim(), SYNC_PUBLIC_KEY: syncPub.trim() }));
    const vm = new gcp.compute.Instance(`${name}-standby`, {
      zone,
      machineType: pair.standby.machineType,
      bootDisk: { autoDelete: true, initializeParams: { image: "debian-cloud/debian-12", size: 10 } },
      attachedDisks: [{ source: disk.id, deviceName: "data" }],
      networkInterfaces: [{ network: "default", accessConfigs: [{}] }],
      // Spot; STOP on preemption so the VM (and with it the attached disk) is kept.
      scheduling: { provisioningModel: "SPOT", preemptible: true, automaticRestart: false, onHostMaintenance: "TERMINATE", instanceTerminationAction: "STOP" },
      tags: [`fleet-standby-${pair.pairId}`],
      labels: { ...labels, "fleet-hour-microusd": "10000" },
      metadataStartupScript: pulumi.secret(startup),
      allowStoppingForUpdate: true,
    }, { parent: this });
    this.standbyIp = vm.networkInterfaces.apply((n) => n[0]?.accessConfigs?.[0]?.natIp ?? "");

    // running or restoring: the GPU exists. Its sync install pulls the standby's copy onto the new
    // host first (restore), and only then starts copying back, so a fresh GPU never wipes the copy.
    if (pair.state !== "gpu-lost" && pair.gpu) {
      const gpu = new VastInstance(`${name}-gpu`, {
        offerId: pair.gpu.offerId,
        pairId: pair.pairId,
        image: policy.gpu.image,
        diskGb: policy.gpu.diskGb,
        onstart: pulumi.interpolate`mkdir -p /root/.ssh && echo '${syncKey.publicKeyOpenssh}' >> /root/.ssh/authorized_keys`,
        apiUrl: args.vastApiUrl,
      }, { parent: this });
      this.gpuIp = gpu.publicIp;
      const firewall = new gcp.compute.Firewall(`${name}-ssh`, {
        network: "default",
        direction: "INGRESS",
        sourceRanges: [pulumi.interpolate`${gpu.publicIp}/32`],
        allows: [{ protocol: "tcp", ports: ["22"] }],
        targetTags: [`fleet-standby-${pair.pairId}`],
      }, { parent: this });
      const install = pulumi
        .all([syncKey.privateKeyOpenssh, hostKey.publicKeyOpenssh, this.standbyIp])
        .apply(([priv, hostPub, ip]) =>
          renderTemplate("gpu-sync-install.sh", { PAIR_ID: pair.pairId, SYNC_PRIVATE_KEY: priv.trim(), STANDBY_IP: ip, HOST_PUBLIC_KEY: hostPub.trim(), SYNC_PATHS: policy.syncPaths.join(" "), INTERVAL: policy.syncIntervalSeconds, SYNC_SCRIPT: renderTemplate("standby-sync.sh", {}) }),
        );
      new command.remote.Command(`${name}-sync`, {
        connection: { host: gpu.sshHost, port: gpu.sshPort, user: "root", privateKey: syncKey.privateKeyOpenssh },
        create: pulumi.secret(install),
        delete: "pkill -f /usr/local/bin/fleet-sync || true",
      }, { parent: this, dependsOn: [vm, firewall] });
    } else {
      this.gpuIp = pulumi.output(undefined);
    }
    this.registerOutputs({ standbyIp: this.standbyIp, gpuIp: this.gpuIp, diskName: this.diskName });
  }
}
