import { test, before } from "node:test";
import assert from "node:assert/strict";
import { installMocks, networkStub, outputValue, type Created } from "./mocks";
import { PoolPolicySchema, type DesiredPool } from "../../reconciler/model";
import { requiredLabelViolations, spotOnlyViolations, maxHourlyPriceViolations } from "../../policies/rules";

let created: Created[];
before(() => {
  created = installMocks();
});

const policy = PoolPolicySchema.parse({ awsImageId: "ami-0abcdef1234567890" });
const awsSpot: DesiredPool = { provider: "aws", region: "us-east-1", zone: "us-east-1a", instanceType: "m5.xlarge", vcpu: 4, ramGb: 16, market: "spot", hourUsd: 0.072, since: "2026-11-22T12:00:00.000Z" };

async function build(name: string, pool: DesiredPool, p = policy) {
  const { SpotPool } = await import("../../stacks/pool");
  const before = created.length;
  const c = new SpotPool(name, { pool, owner: "alice", policy: p, network: networkStub() });
  await outputValue(c.instanceId);
  await new Promise((r) => setTimeout(r, 50));
  return created.slice(before);
}

test("SpotPool (AWS spot): launch template with one-time spot that terminates on interruption, tags, and the instance", async () => {
  const res = await build("p1", awsSpot);
  const lt = res.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!;
  assert.deepEqual(lt.inputs.instanceMarketOptions, { marketType: "spot", spotOptions: { spotInstanceType: "one-time", instanceInterruptionBehavior: "terminate" } });
  assert.equal(lt.inputs.instanceType, "m5.xlarge");
  assert.equal(lt.inputs.metadataOptions.httpTokens, "required");
  // The root volume under the AMI's own root device name (an Ubuntu AMI: /dev/sda1), encrypted.
  assert.deepEqual(lt.inputs.blockDeviceMappings.map((m: any) => [m.deviceName, m.ebs.encrypted]), [["/dev/sda1", "true"]]);
  // A security group of Fleet's with no inbound rule, never the VPC's default group.
  const sg = res.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup")!;
  assert.deepEqual(lt.inputs.vpcSecurityGroupIds, [`${sg.name}-id`]);
  assert.deepEqual(sg.inputs.ingress ?? [], []);
  const inst = res.find((r) => r.type === "aws:ec2/instance:Instance")!;
  assert.equal(inst.inputs.availabilityZone, "us-east-1a");
  assert.deepEqual(inst.inputs.tags, { "managed-by": "fleet", "fleet-stack": "test", "fleet-area": "pool", owner: "alice", "expires-at": "never", "fleet-hour-microusd": "72000" });
  // The policy pack accepts what the component declares.
  assert.deepEqual(spotOnlyViolations({ type: lt.type, props: lt.inputs }), []);
  assert.deepEqual(requiredLabelViolations({ type: inst.type, props: inst.inputs }), []);
  assert.deepEqual(maxHourlyPriceViolations({ type: inst.type, props: inst.inputs }, 1), []);
});

test("SpotPool (AWS): interruption warnings and rebalance recommendations go to an SQS queue", async () => {
  const res = await build("p2", awsSpot);
  const rule = res.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule")!;
  assert.deepEqual(JSON.parse(rule.inputs.eventPattern)["detail-type"], ["EC2 Spot Instance Interruption Warning", "EC2 Instance Rebalance Recommendation"]);
  // Only this pool's instance: the account's other instances' warnings never reach its queue.
  const inst = res.find((r) => r.type === "aws:ec2/instance:Instance")!;
  assert.deepEqual(JSON.parse(rule.inputs.eventPattern).detail, { "instance-id": [`${inst.name}-id`] });
  const target = res.find((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget")!;
  assert.ok(target);
  const qp = res.find((r) => r.type === "aws:sqs/queuePolicy:QueuePolicy")!;
  const stmt = JSON.parse(qp.inputs.policy).Statement[0];
  assert.deepEqual([stmt.Principal.Service, stmt.Action], ["events.amazonaws.com", "sqs:SendMessage"]);
  assert.ok(stmt.Condition.ArnEquals["aws:SourceArn"], "only this rule may send");
});

test("SpotPool: a switch is a different logical instance (created before the old one is deleted)", async () => {
  const { poolInstanceName } = await import("../../stacks/pool");
  const moved = { ...awsSpot, zone: "us-east-1b" };
  assert.notEqual(poolInstanceName(awsSpot), poolInstanceName(moved));
  assert.equal(poolInstanceName(awsSpot), poolInstanceName({ ...awsSpot, hourUsd: 0.08, since: "2026-11-23T00:00:00.000Z" }), "a price change is not a move");
});

test("SpotPool (AWS on-demand fallback): no spot options, marked as the fallback", async () => {
  const res = await build("p3", { ...awsSpot, market: "on-demand", hourUsd: 0.192 });
  const lt = res.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!;
  assert.equal(lt.inputs.instanceMarketOptions, undefined);
  const inst = res.find((r) => r.type === "aws:ec2/instance:Instance")!;
  assert.equal(inst.inputs.tags["fleet-fallback"], "on-demand");
  assert.deepEqual(spotOnlyViolations({ type: inst.type, props: inst.inputs }), [], "allowed because it is marked");
});

test("SpotPool (GCP): SPOT, or STANDARD for the fallback", async () => {
  const gcpSpot: DesiredPool = { provider: "gcp", region: "us-east1", zone: "", instanceType: "e2-highmem-4", vcpu: 4, ramGb: 32, market: "spot", hourUsd: 0.03, since: "2026-11-22T12:00:00.000Z" };
  const spot = (await build("p4", gcpSpot)).find((r) => r.type === "gcp:compute/instance:Instance")!;
  assert.equal(spot.inputs.scheduling.provisioningModel, "SPOT");
  assert.equal(spot.inputs.zone, "us-east1-b");
  assert.equal(spot.inputs.labels["fleet-area"], "pool");
  const od = (await build("p5", { ...gcpSpot, market: "on-demand" })).find((r) => r.type === "gcp:compute/instance:Instance")!;
  assert.equal(od.inputs.scheduling.provisioningModel, "STANDARD");
  assert.equal(od.inputs.labels["fleet-fallback"], "on-demand");
});

test("SpotPool (AWS) without an AMI says which setting is missing", async () => {
  await assert.rejects(build("p6", awsSpot, PoolPolicySchema.parse({})), /fleet:policy\.pool\.awsImageId is required/);
});
