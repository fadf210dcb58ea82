import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { ListQueuesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { spawnSync } from "node:child_process";
import { cloudStack, type CloudStack } from "./cloud";
import { REPO } from "../helpers";
import { ENGINE_FILE_TIMEOUT_MS, engineSkipReason, stackState, type CliResult } from "./harness";
import { MOTO_CREDENTIALS, MotoServer, motoSkipReason } from "../doubles/moto";
import { observeAwsPool } from "../../reconciler/signals/pool-live";

/**
 * The pool area on AWS end to end on the real engine, its state in an S3 backend (moto's S3 through
 * the real CLI): the test aws plugin (test/engine/plugins/aws.ts,
 * the Terraform provider's rules) over moto's EC2, SQS and EventBridge. `fleet apply --applied` of a
 * fleet whose pool is on AWS makes the security group, the launch template (the AMI's own root device,
 * encrypted), the Spot instance, the queue and the rule routing only this instance's interruption
 * warnings; an interruption put on the bus reaches Fleet's pool observer; drift is in sync, an
 * instance terminated by hand is drift (exit 3) and the next apply replaces it; removing the pool
 * leaves nothing in moto. (The pool's decisions need live AWS prices, which moto only fakes: those run
 * on recorded data in test/unit; the GCP pool's reconcile runs on the engine in pool-lifecycle.)
 */
const skip = engineSkipReason() || motoSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("pool (aws) on the real engine and moto", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  let c: CloudStack;
  const moto = new MotoServer();
  let ami = "";
  const bucket = `fleet-state-${process.pid}`;
  /** The bucket's keys (ListObjectsV2; moto's S3 lists without a signature, objects stay private). */
  const keys = async (): Promise<string[]> => {
    const xml = await (await fetch(`${moto.endpoint}/${bucket}?list-type=2`)).text();
    return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
  };
  const run = (args: string[], expect: number | "any" = 0): Promise<CliResult> => c.run(args, expect);
  const ec2 = () => new EC2Client(moto.client());
  const running = async () => {
    const r = await ec2().send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: "tag:fleet-area", Values: ["pool"] },
          { Name: "instance-state-name", Values: ["pending", "running"] },
        ],
      }),
    );
    return (r.Reservations ?? []).flatMap((x) => x.Instances ?? []);
  };
  const pool = {
    provider: "aws",
    region: "us-east-1",
    zone: "us-east-1a",
    instanceType: "m5.large",
    vcpu: 2,
    ramGb: 8,
    market: "spot",
    hourUsd: 0.04,
    since: "2026-12-01T08:00:00.000Z",
  };
  const policy = () => ({
    owner: "fleet",
    burst: { enabled: false },
    pool: { enabled: true, providers: ["aws"], allowedRegions: ["us-east-1"], awsImageId: ami, maxSpotHourUsd: 0.2 },
  });

  before(async () => {
    if (skip) return;
    await moto.start();
    // An Ubuntu-style AMI from moto's catalogue: its root device is /dev/sda1, not /dev/xvda.
    const images = (await ec2().send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images ?? [];
    ami = (images.find((i) => i.RootDeviceName === "/dev/sda1") ?? images[0])!.ImageId!;
    c = await cloudStack("poolaws");
    // The stack's state in an S3 bucket (PULUMI_BACKEND_URL=s3://…, as a team shares it), on moto's
    // S3 through the CLI's own blob backend (gocloud.dev s3blob URL: endpoint, path style, region).
    const made = await fetch(`${moto.endpoint}/${bucket}`, { method: "PUT" });
    assert.equal(made.status, 200);
    Object.assign(c.env, {
      PULUMI_BACKEND_URL: `s3://${bucket}?endpoint=${encodeURIComponent(moto.endpoint)}&use_path_style=true&region=us-east-1`,
      FLEET_TEST_AWS_URL: moto.endpoint,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
    });
    c.writeStack(policy(), { "fleet:desired": JSON.stringify({ pool }) });
  });
  after(async () => {
    if (skip) return;
    await c.cleanup();
    await moto.stop();
  });

  test("apply --applied makes the pool as the AWS APIs define it; an interruption reaches the observer; drift is in sync", async () => {
    await run(["apply", "--applied"]);
    const [inst] = await running();
    assert.ok(inst, "one pool instance runs");
    assert.equal(inst.InstanceType, "m5.large");
    assert.equal(inst.Placement?.AvailabilityZone, "us-east-1a");
    const image = (await ec2().send(new DescribeImagesCommand({ ImageIds: [ami] }))).Images![0]!;
    const templates = await ec2().send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: await templateId(), Versions: ["$Latest"] }),
    );
    const data = templates.LaunchTemplateVersions![0]!.LaunchTemplateData!;
    assert.deepEqual(
      data.BlockDeviceMappings?.map((b) => [b.DeviceName, b.Ebs?.Encrypted]),
      [[image.RootDeviceName, true]],
      "the AMI's root device, encrypted",
    );
    assert.equal(data.InstanceMarketOptions?.MarketType, "spot");
    const groups = await ec2().send(new DescribeSecurityGroupsCommand({ GroupIds: data.SecurityGroupIds }));
    assert.deepEqual(
      groups.SecurityGroups!.map((g) => g.IpPermissions ?? []),
      [[]],
      "Fleet's own group: nothing comes in",
    );
    // An interruption warning for this instance, on the default bus, reaches the queue the engine made.
    const events = new EventBridgeClient(moto.client());
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "aws.ec2",
            DetailType: "EC2 Spot Instance Interruption Warning",
            Detail: JSON.stringify({ "instance-id": inst.InstanceId, "instance-action": "terminate" }),
          },
        ],
      }),
    );
    const clients = {
      ec2: () => ec2(),
      sqs: () => new SQSClient(moto.client()),
      cloudwatch: () => new CloudWatchClient(moto.client()),
    };
    const seen = await observeAwsPool(pool as never, c.stack, clients, Date.now());
    assert.deepEqual(seen.actual, { instanceId: inst.InstanceId, state: "running", interruption: "interruption" });
    // The state is the bucket's, and the update's lock was released.
    const stored = await keys();
    assert.ok(stored.some((k) => k.startsWith(".pulumi/stacks/") && k.endsWith(`/${c.stack}.json`)), stored.join(", "));
    assert.deepEqual(stored.filter((k) => k.startsWith(".pulumi/locks/")), []);
    // In sync right after: the engine's refresh-preview finds nothing to change. (`fleet drift` also
    // decides from live signals, and an AWS pool's need AWS's Price List API, which moto does not serve.)
    const preview = enginePreview();
    assert.equal(preview.status, 0, preview.stdout + preview.stderr);
  });

  /** `pulumi preview --refresh --expect-no-changes` of the stack as its file declares it (type-checked, as CI runs it). */
  function enginePreview() {
    return spawnSync(
      "pulumi",
      ["preview", "--refresh", "--expect-no-changes", "--non-interactive", "--stack", c.stack],
      {
        cwd: REPO,
        env: { ...process.env, ...c.env },
        encoding: "utf8",
        timeout: 300_000,
      },
    );
  }

  async function templateId(): Promise<string> {
    const state = stackState(c.stack, c.env);
    return state.resources.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")!.id!;
  }

  test("an instance terminated by hand is drift the engine sees; the next apply replaces it, the rule follows the new id", async () => {
    const [inst] = await running();
    await ec2().send(new TerminateInstancesCommand({ InstanceIds: [inst!.InstanceId!] }));
    const drift = enginePreview();
    assert.notEqual(drift.status, 0);
    assert.match(drift.stdout, /\+\s+aws:ec2:Instance|create/);
    await run(["apply", "--applied"]);
    const now = await running();
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.InstanceId, inst!.InstanceId);
    const rules = await new EventBridgeClient(moto.client()).send(new ListRulesCommand({}));
    const patterns = (rules.Rules ?? []).map((r) => JSON.parse(r.EventPattern ?? "{}").detail?.["instance-id"]);
    assert.deepEqual(patterns, [[now[0]!.InstanceId]]);
    assert.deepEqual(stackState(c.stack, c.env).pending, []);
    assert.equal(enginePreview().status, 0);
  });

  test("pool disabled: the next reconcile removes instance, template, group, queue and rule", async () => {
    c.writeStack(
      { ...policy(), pool: { ...policy().pool, enabled: false } },
      { "fleet:desired": JSON.stringify({ pool }) },
    );
    const r = await run(["reconcile", "--once", "--mode", "auto"]);
    assert.match(r.stdout, /cycle: applied/);
    assert.deepEqual(await running(), []);
    const queues = await new SQSClient(moto.client()).send(new ListQueuesCommand({}));
    assert.deepEqual(queues.QueueUrls ?? [], []);
    const rules = await new EventBridgeClient(moto.client()).send(new ListRulesCommand({}));
    assert.deepEqual(rules.Rules ?? [], []);
    assert.ok(
      !stackState(c.stack, c.env).resources.some((r) => r.type.startsWith("aws:")),
      "nothing of AWS left in the state",
    );
  });
});
