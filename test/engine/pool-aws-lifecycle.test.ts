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
import { readAppliedMirror } from "../../reconciler/config/applied";
import { AwsPriceFront } from "../doubles/aws-prices";

/**
 * The pool area on AWS end to end on the real engine, its state in an S3 backend (moto's S3 through
 * the real CLI): the test aws plugin (test/engine/plugins/aws.ts, the Terraform provider's rules)
 * over moto's EC2, SQS and EventBridge, and Fleet's own AWS calls through a front that answers
 * AWS's price APIs from recorded prices (test/doubles/aws-prices.ts: the 2022-05-31 spot snapshot
 * replayed to end now, Karpenter's recorded Price List answers) and hands everything else to moto.
 * The first reconcile decides from those prices and makes the security group, the launch template
 * (the AMI's own root device, encrypted), the Spot instance, the queue and the rule routing only
 * this instance's interruption warnings; an interruption put on the bus reaches Fleet's pool
 * observer; `fleet drift` is in sync; an instance terminated by hand is drift naming it (exit 3)
 * and the next reconcile restores it; removing the pool leaves nothing in moto.
 */
const skip = engineSkipReason() || motoSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("pool (aws) on the real engine and moto", { timeout: ENGINE_FILE_TIMEOUT_MS }, () => {
  let c: CloudStack;
  const moto = new MotoServer();
  let front: AwsPriceFront;
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
  // Two-vCPU, 8 GB m5/m5d in us-east-1: the recorded snapshot has m5.large in us-east-1c (0.0424)
  // and us-east-1d (0.0416), m5d.large in us-east-1c (0.0352) and us-east-1f (0.0385); on demand
  // 0.096 and 0.113 (test/integration/aws-prices.test.ts reads the same through Fleet's sources).
  const policy = () => ({
    owner: "fleet",
    burst: { enabled: false },
    pool: {
      enabled: true,
      providers: ["aws"],
      allowedRegions: ["us-east-1"],
      homeRegion: "us-east-1",
      allowedFamilies: ["m5", "m5d"],
      minVcpu: 2,
      maxVcpu: 2,
      minRamGb: 8,
      maxRamGb: 8,
      awsImageId: ami,
      maxSpotHourUsd: 0.2,
    },
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
    front = new AwsPriceFront(moto.endpoint);
    await front.start();
    Object.assign(c.env, {
      PULUMI_BACKEND_URL: `s3://${bucket}?endpoint=${encodeURIComponent(moto.endpoint)}&use_path_style=true&region=us-east-1`,
      FLEET_TEST_AWS_URL: moto.endpoint,
      // Fleet's own AWS clients (prices, observer, sweep); the plugin talks to moto directly.
      AWS_ENDPOINT_URL: front.endpoint,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
      AWS_REGION: "us-east-1",
    });
    c.writeStack(policy());
  });
  after(async () => {
    if (skip) return;
    await c.cleanup();
    await front.stop();
    await moto.stop();
  });

  test("plan previews the pool on the cheapest recorded pool; the first reconcile makes it as the AWS APIs define it; drift is in sync", async () => {
    const plan = await run(["plan"]);
    assert.match(plan.stdout, /Prices: .*AWS spot prices live/);
    assert.match(plan.stdout, /pool\s+switch\s+no pool instance yet/);
    assert.deepEqual(await running(), [], "a plan makes nothing");
    const r = await run(["reconcile", "--once", "--mode", "auto"]);
    assert.match(r.stdout, /cycle: applied/);
    const [inst] = await running();
    assert.ok(inst, "one pool instance runs");
    // The cheapest recorded spot price of the four pools: m5d.large in us-east-1c at $0.0352/h.
    assert.equal(inst.InstanceType, "m5d.large");
    assert.equal(inst.Placement?.AvailabilityZone, "us-east-1c");
    const pool = readAppliedMirror(REPO, c.stack)?.pool;
    assert.equal(pool?.hourUsd, 0.0352);
    assert.ok(front.calls.some((x) => x.operation === "GetProducts"), "on-demand prices came from the Price List API");
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
    // The state is the bucket's, and the update's lock was released.
    const stored = await keys();
    assert.ok(stored.some((k) => k.startsWith(".pulumi/stacks/") && k.endsWith(`/${c.stack}.json`)), stored.join(", "));
    assert.deepEqual(stored.filter((k) => k.startsWith(".pulumi/locks/")), []);
    // In sync right after, by Fleet's drift (the engine's refresh and the same prices) and the engine's own preview.
    await run(["drift"], 0);
    const preview = enginePreview();
    assert.equal(preview.status, 0, preview.stdout + preview.stderr);
    assert.match((await run(["reconcile", "--once", "--mode", "auto"])).stdout, /cycle: in-sync/);
  });

  test("an interruption warning reaches the observer; the next reconcile moves the instance to another pool", async () => {
    const [inst] = await running();
    // An interruption warning for this instance, on the default bus, reaches the queue the engine made.
    const events = new EventBridgeClient(moto.client());
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: "aws.ec2",
            DetailType: "EC2 Spot Instance Interruption Warning",
            Detail: JSON.stringify({ "instance-id": inst!.InstanceId, "instance-action": "terminate" }),
          },
        ],
      }),
    );
    const clients = {
      ec2: () => ec2(),
      sqs: () => new SQSClient(moto.client()),
      cloudwatch: () => new CloudWatchClient(moto.client()),
    };
    const pool = readAppliedMirror(REPO, c.stack)!.pool!;
    const seen = await observeAwsPool(pool, c.stack, clients, Date.now());
    assert.deepEqual(seen.actual, { instanceId: inst!.InstanceId, state: "running", interruption: "interruption" });
    // The reclaimed pool (us-east-1c) is left; the next cheapest safe one is m5d.large in us-east-1f ($0.0385).
    const drift = await run(["drift"], 3);
    assert.match(drift.stdout, /being interrupted \(interruption\): switch to m5d\.large in us-east-1\/us-east-1f/);
    await run(["reconcile", "--once", "--mode", "auto"]);
    const now = await running();
    assert.deepEqual(now.map((i) => [i.InstanceType, i.Placement?.AvailabilityZone]), [["m5d.large", "us-east-1f"]]);
    assert.notEqual(now[0]!.InstanceId, inst!.InstanceId);
    await run(["drift"], 0);
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

  test("an instance terminated by hand is drift naming it (exit 3); the next reconcile makes one again, the rule follows the new id", async () => {
    const [inst] = await running();
    await ec2().send(new TerminateInstancesCommand({ InstanceIds: [inst!.InstanceId!] }));
    const drift = await run(["drift"], 3);
    assert.match(drift.stdout, /create \S*aws:ec2\/instance:Instance::/);
    const r = await run(["reconcile", "--once", "--mode", "auto"]);
    assert.match(r.stdout, /cycle: applied/);
    const now = await running();
    assert.equal(now.length, 1);
    assert.notEqual(now[0]!.InstanceId, inst!.InstanceId);
    // Gone (not warned): the cheapest safe pool again, us-east-1c (its warning was for an instance before).
    assert.deepEqual(now.map((i) => [i.InstanceType, i.Placement?.AvailabilityZone]), [["m5d.large", "us-east-1c"]]);
    const rules = await new EventBridgeClient(moto.client()).send(new ListRulesCommand({}));
    const patterns = (rules.Rules ?? []).map((r) => JSON.parse(r.EventPattern ?? "{}").detail?.["instance-id"]);
    assert.deepEqual(patterns, [[now[0]!.InstanceId]]);
    assert.deepEqual(stackState(c.stack, c.env).pending, []);
    await run(["drift"], 0);
  });

  test("pool disabled: the next reconcile removes instance, template, group, queue and rule", async () => {
    c.writeStack({ ...policy(), pool: { ...policy().pool, enabled: false } });
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
