import { test } from "node:test";
import assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { fleetHourlyCap, maxHourlyPrice, maxVmsPerArea, noSshFromWorld, requiredLabels, spotOnly } from "../../policies/policies";

/** Runs a resource policy's validator as the engine would and returns what it reported. */
function check(policy: ResourceValidationPolicy, type: string, props: Record<string, any>, config: Record<string, unknown> = {}): string[] {
  const violations: string[] = [];
  const validate = policy.validateResource as (args: any, report: (m: string) => void) => void;
  validate({ type, props, urn: `urn:pulumi:s::fleet::${type}::x`, name: "x", opts: {}, getConfig: () => config, notApplicable: () => {} }, (m) => violations.push(m));
  return violations;
}
function checkStack(policy: StackValidationPolicy, resources: { type: string; props: Record<string, any> }[], config: Record<string, unknown>): string[] {
  const violations: string[] = [];
  policy.validateStack({ resources: resources.map((r) => ({ ...r, urn: "u", name: "n", opts: {}, dependencies: [], propertyDependencies: {} })), getConfig: () => config, notApplicable: () => {} } as any, (m: string) => violations.push(m));
  return violations;
}

const GCE = "gcp:compute/instance:Instance";
const EC2 = "aws:ec2/instance:Instance";
const labels = { "managed-by": "fleet", "fleet-area": "burst", owner: "alice", "expires-at": "2026-11-22t15-00-00z", "fleet-hour-microusd": "30000" };
const gce = (over: Record<string, any> = {}) => ({ machineType: "e2-standard-4", scheduling: { provisioningModel: "SPOT", preemptible: true }, labels: { ...labels }, ...over });
const ec2 = (over: Record<string, any> = {}) => ({ instanceType: "m5.large", instanceMarketOptions: { marketType: "spot" }, tags: { ...labels, "fleet-area": "pool" }, ...over });

test("policy spot-only: happy path (GCE and EC2)", () => {
  assert.deepEqual(check(spotOnly, GCE, gce()), []);
  assert.deepEqual(check(spotOnly, EC2, ec2()), []);
});
test("policy spot-only: a STANDARD GCE instance is refused", () => {
  assert.match(check(spotOnly, GCE, gce({ scheduling: { provisioningModel: "STANDARD" } }))[0]!, /not SPOT/);
});
test("policy spot-only: an on-demand EC2 instance is refused", () => {
  assert.match(check(spotOnly, EC2, ec2({ instanceMarketOptions: undefined }))[0]!, /market is on-demand, not spot/);
});
test("policy spot-only: an on-demand instance marked as the fallback is allowed", () => {
  assert.deepEqual(check(spotOnly, EC2, ec2({ instanceMarketOptions: undefined, tags: { ...labels, "fleet-fallback": "on-demand" } })), []);
});

test("policy max-hourly-price: under the limit passes", () => {
  assert.deepEqual(check(maxHourlyPrice, GCE, gce(), { maxHourlyUsd: 0.05 }), []);
});
test("policy max-hourly-price: above the limit is refused", () => {
  assert.match(check(maxHourlyPrice, GCE, gce(), { maxHourlyUsd: 0.02 })[0]!, /\$0\.03\/h, above the limit of \$0\.02\/h/);
});
test("policy max-hourly-price: a VM without a price label is refused", () => {
  const { "fleet-hour-microusd": _, ...rest } = labels;
  assert.match(check(maxHourlyPrice, GCE, gce({ labels: rest }), { maxHourlyUsd: 1 })[0]!, /no fleet-hour-microusd/);
});

test("policy required-labels: happy path", () => {
  assert.deepEqual(check(requiredLabels, GCE, gce()), []);
});
for (const key of ["managed-by", "fleet-area", "owner", "expires-at"]) {
  test(`policy required-labels: missing ${key} is refused`, () => {
    const l: Record<string, string> = { ...labels };
    delete l[key];
    assert.match(check(requiredLabels, GCE, gce({ labels: l }))[0]!, new RegExp(`missing required label\\(s\\): ${key}`));
  });
}
test("policy required-labels: managed-by must be fleet", () => {
  assert.match(check(requiredLabels, EC2, ec2({ tags: { ...labels, "managed-by": "terraform" } }))[0]!, /must be 'fleet'/);
});

const FW = "gcp:compute/firewall:Firewall";
const fw = (over: Record<string, any> = {}) => ({ network: "default", direction: "INGRESS", sourceRanges: ["203.0.113.7/32"], allows: [{ protocol: "tcp", ports: ["22"] }], ...over });
test("policy no-ssh-from-world: SSH from one address passes", () => {
  assert.deepEqual(check(noSshFromWorld, FW, fw()), []);
});
test("policy no-ssh-from-world: SSH from 0.0.0.0/0 is refused (GCP)", () => {
  assert.match(check(noSshFromWorld, FW, fw({ sourceRanges: ["0.0.0.0/0"] }))[0]!, /opens SSH/);
});
test("policy no-ssh-from-world: a port range covering 22 from the world is refused", () => {
  assert.equal(check(noSshFromWorld, FW, fw({ sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["20-30"] }] })).length, 1);
});
test("policy no-ssh-from-world: HTTPS from the world is allowed", () => {
  assert.deepEqual(check(noSshFromWorld, FW, fw({ sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "tcp", ports: ["443"] }] })), []);
});
test("policy no-ssh-from-world: an AWS security group with SSH from the world is refused", () => {
  const sg = (cidr: string) => ({ ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [cidr] }] });
  assert.deepEqual(check(noSshFromWorld, "aws:ec2/securityGroup:SecurityGroup", sg("198.51.100.0/24")), []);
  assert.equal(check(noSshFromWorld, "aws:ec2/securityGroup:SecurityGroup", sg("0.0.0.0/0")).length, 1);
  assert.equal(check(noSshFromWorld, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" }).length, 1);
});

// Issue 19, item 6: the world-open rule was an exact string match.
test("policy no-ssh-from-world: the internet by CIDR arithmetic, any spelling of tcp", () => {
  const refused = (over: Record<string, any>) => assert.equal(check(noSshFromWorld, FW, fw(over)).length, 1, JSON.stringify(over));
  refused({ sourceRanges: ["0.0.0.0/1", "128.0.0.0/1"] });
  refused({ sourceRanges: ["10.0.0.0/8", "11.0.0.0/8"] });
  refused({ sourceRanges: ["::/0"] });
  refused({ sourceRanges: ["2000::/3"] });
  refused({ sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "TCP", ports: ["22"] }] });
  refused({ sourceRanges: ["0.0.0.0/0"], allows: [{ protocol: "all" }] });
  refused({ sourceRanges: ["not-a-cidr"] });
  refused({ sourceRanges: ["0.0.0.0/0"], direction: "ingress" });
  assert.deepEqual(check(noSshFromWorld, FW, fw({ sourceRanges: ["198.51.100.0/24", "203.0.113.0/24", "10.0.0.0/9"] })), [], "known networks");
  assert.deepEqual(check(noSshFromWorld, FW, fw({ sourceRanges: ["2001:db8::/48"] })), []);
  assert.match(check(noSshFromWorld, FW, fw({ sourceRanges: ["0.0.0.0/1", "128.0.0.0/1"] }))[0]!, /4294967296 addresses/);
  const sg = { ingress: [{ protocol: "TCP", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/1", "128.0.0.0/1"] }] };
  assert.equal(check(noSshFromWorld, "aws:ec2/securityGroup:SecurityGroup", sg).length, 1);
});

const vm = (area: string, microusd = "30000") => ({ type: GCE, props: gce({ labels: { ...labels, "fleet-area": area, "fleet-hour-microusd": microusd } }) });
const domain = { type: "pulumi-nodejs:dynamic/fleet:LibvirtDomain", props: { name: "lab-ctl" } };

test("policy max-vms-per-area: within limits passes", () => {
  assert.deepEqual(checkStack(maxVmsPerArea, [vm("burst"), vm("burst"), domain, domain], { maxPerArea: { burst: 2, hpc: 2 } }), []);
});
test("policy max-vms-per-area: one VM too many is refused", () => {
  assert.match(checkStack(maxVmsPerArea, [vm("burst"), vm("burst"), vm("burst")], { maxPerArea: { burst: 2 } })[0]!, /3 VMs in area burst, above the limit of 2/);
});
test("policy max-vms-per-area: hpc domains count", () => {
  assert.match(checkStack(maxVmsPerArea, [domain, domain, domain], { maxPerArea: { hpc: 2 } })[0]!, /area hpc/);
});

test("policy fleet-hourly-cap: under the cap passes", () => {
  assert.deepEqual(checkStack(fleetHourlyCap, [vm("burst"), vm("pool", "500000")], { maxFleetHourlyUsd: 1 }), []);
});
test("policy fleet-hourly-cap: over the cap is refused", () => {
  assert.match(checkStack(fleetHourlyCap, [vm("burst"), vm("pool", "990000")], { maxFleetHourlyUsd: 1 })[0]!, /costs \$1\.02\/h, above the cap of \$1\/h/);
});
test("policy fleet-hourly-cap: an unpriced VM is refused", () => {
  assert.match(checkStack(fleetHourlyCap, [{ type: EC2, props: ec2({ tags: {} }) }], { maxFleetHourlyUsd: 100 })[0]!, /without a fleet-hour-microusd/);
});

test("policy fleet-safe-by-default (GCP): Shielded VM, OS Login, project ssh keys blocked", async () => {
  const { gcpHardeningViolations } = await import("../../policies/rules");
  const { GCP_LOGIN_METADATA, GCP_SHIELDED_VM } = await import("../../reconciler/model/hardening");
  const vm = (props: Record<string, unknown>) => ({ type: "gcp:compute/instance:Instance", props });
  assert.deepEqual(gcpHardeningViolations(vm({ shieldedInstanceConfig: GCP_SHIELDED_VM, metadata: { ...GCP_LOGIN_METADATA } })), []);
  assert.deepEqual(gcpHardeningViolations(vm({})), [
    "shieldedInstanceConfig: enableSecureBoot, enableVtpm, enableIntegrityMonitoring must be true (a Shielded VM)",
    "metadata 'enable-oslogin' must be 'TRUE'",
    "metadata 'block-project-ssh-keys' must be 'TRUE'",
  ]);
  const partial = vm({ shieldedInstanceConfig: { ...GCP_SHIELDED_VM, enableSecureBoot: false }, metadata: { "enable-oslogin": "true", "block-project-ssh-keys": "FALSE" } });
  assert.deepEqual(gcpHardeningViolations(partial), ["shieldedInstanceConfig: enableSecureBoot must be true (a Shielded VM)", "metadata 'block-project-ssh-keys' must be 'TRUE'"]);
});

// Issue 19, item 6: every GCP VM sat on the project's `default` network with a public address.
test("policy fleet-safe-by-default (GCP network): Fleet's own network, a public address only on a standby", async () => {
  const { gcpNetworkViolations } = await import("../../policies/rules");
  const { fleetNetworkName } = await import("../../reconciler/model/network");
  const own = `https://www.googleapis.com/compute/v1/projects/p/global/networks/${fleetNetworkName("p", "prod")}`;
  const vm = (area: string, nic: Record<string, unknown>) => ({
    type: "gcp:compute/instance:Instance",
    props: { labels: { "fleet-area": area }, networkInterfaces: [nic] },
  });
  assert.deepEqual(gcpNetworkViolations(vm("burst", { network: own })), []);
  assert.deepEqual(gcpNetworkViolations(vm("standby", { network: own, accessConfigs: [{}] })), []);
  assert.deepEqual(gcpNetworkViolations(vm("burst", { network: undefined })), [], "not known yet: checked on the update");
  for (const net of ["default", "projects/p/global/networks/default", "global/networks/shared-vpc"])
    assert.match(gcpNetworkViolations(vm("pool", { network: net }))[0]!, /networkInterfaces\[0\]\.network '.*' is not Fleet's/);
  assert.deepEqual(gcpNetworkViolations(vm("pool", { network: own, accessConfigs: [{}] })), [
    "networkInterfaces[0] has a public address: only a standby needs one (burst and pool VMs go out through Cloud NAT)",
  ]);
  const fw = (network: string) => ({ type: "gcp:compute/firewall:Firewall", props: { network } });
  assert.deepEqual(gcpNetworkViolations(fw(own)), []);
  assert.match(gcpNetworkViolations(fw("default"))[0]!, /firewall rule on network 'default', which Fleet does not own/);
});

test("policy fleet-safe-by-default (AWS): encrypted volumes and a security group of Fleet's, read where the launch template puts them", async () => {
  const { awsHardeningViolations } = await import("../../policies/rules");
  const lt = (props: Record<string, unknown>) => ({ type: "aws:ec2/launchTemplate:LaunchTemplate", props });
  const ok = { vpcSecurityGroupIds: ["sg-1"], blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { encrypted: "true", volumeSize: 30 } }] };
  assert.deepEqual(awsHardeningViolations(lt(ok)), []);
  assert.deepEqual(awsHardeningViolations(lt({ ...ok, blockDeviceMappings: [{ deviceName: "/dev/sda1", ebs: { volumeSize: 30 } }] })), ["an EBS volume is not encrypted"]);
  assert.deepEqual(awsHardeningViolations(lt({ blockDeviceMappings: ok.blockDeviceMappings })), ["no security group of Fleet's: the VPC's default group would apply"]);
  // An instance launched from the template is judged by the template; a bare instance by itself.
  assert.deepEqual(awsHardeningViolations({ type: "aws:ec2/instance:Instance", props: { launchTemplate: { id: "lt-1" } } }), []);
  assert.deepEqual(awsHardeningViolations({ type: "aws:ec2/instance:Instance", props: { rootBlockDevice: { encrypted: true }, vpcSecurityGroupIds: ["sg-1"] } }), []);
  assert.deepEqual(awsHardeningViolations({ type: "aws:ec2/instance:Instance", props: {} }), ["an EBS volume is not encrypted", "no security group of Fleet's: the VPC's default group would apply"]);
});
