// The AWS side of the pool, signals and sweep against moto's server (AWS's service models behind
// the real wire protocols; test/doubles/moto.ts), through the same AWS SDK v3 clients Fleet runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { MotoServer, motoSkipReason } from "../doubles/moto";
import { agentMemoryDimensions, readInterruption } from "../../reconciler/signals/pool-aws";
import { observeAwsPool } from "../../reconciler/signals/pool-live";
import { awsInventory } from "../../reconciler/sweep/inventory";
import { interruptionEventPattern } from "../../stacks/pool";

const skip = motoSkipReason();
const moto = new MotoServer();
before(async () => {
  if (!skip) await moto.start();
});
after(() => moto.stop());

async function someAmi(ec2: EC2Client): Promise<string> {
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }));
  return images.Images![0]!.ImageId!;
}

async function runTagged(ec2: EC2Client, tags: Record<string, string>): Promise<string> {
  const r = await ec2.send(
    new RunInstancesCommand({ ImageId: await someAmi(ec2), InstanceType: "m5.large", MinCount: 1, MaxCount: 1 }),
  );
  const id = r.Instances![0]!.InstanceId!;
  await ec2.send(
    new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
  );
  return id;
}

/** The pool's queue fed by an EventBridge rule with the pattern stacks/pool.ts declares. */
async function interruptionQueue(instanceId: string, name: string, tags: Record<string, string> = {}): Promise<string> {
  const sqs = new SQSClient(moto.client());
  const events = new EventBridgeClient(moto.client());
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name, tags }))).QueueUrl!;
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  await events.send(
    new PutRuleCommand({ Name: name, EventPattern: JSON.stringify(interruptionEventPattern(instanceId)) }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: name, Targets: [{ Id: "queue", Arn: attrs.Attributes!.QueueArn! }] }),
  );
  return url;
}

async function emit(detailType: string, instanceId: string) {
  const events = new EventBridgeClient(moto.client());
  const detail = JSON.stringify({ "instance-id": instanceId, "instance-action": "terminate" });
  const r = await events.send(
    new PutEventsCommand({ Entries: [{ Source: "aws.ec2", DetailType: detailType, Detail: detail }] }),
  );
  assert.equal(r.FailedEntryCount, 0);
}

test(
  "interruption path: EventBridge routes only this instance's warnings to its queue; the reader long-polls",
  { skip },
  async () => {
    const url = await interruptionQueue("i-0pool00000000001", "pool-interruptions-t1");
    const sqs = new SQSClient(moto.client());
    const waits: unknown[] = [];
    sqs.middlewareStack.add(
      (next) => async (args) => {
        waits.push((args.input as { WaitTimeSeconds?: number }).WaitTimeSeconds);
        return next(args);
      },
      { step: "initialize" },
    );
    // Another instance's warning is not this pool's business and never reaches its queue.
    await emit("EC2 Spot Instance Interruption Warning", "i-0other0000000001");
    assert.equal(await readInterruption(sqs, url, "i-0pool00000000001", Date.now()), "none");
    await emit("EC2 Instance Rebalance Recommendation", "i-0pool00000000001");
    assert.equal(await readInterruption(sqs, url, "i-0pool00000000001", Date.now()), "rebalance");
    await emit("EC2 Spot Instance Interruption Warning", "i-0pool00000000001");
    assert.equal(await readInterruption(sqs, url, "i-0pool00000000001", Date.now()), "interruption");
    assert.ok(
      waits.length > 0 && waits.every((w) => typeof w === "number" && w >= 1 && w <= 20),
      `long polling: ${waits}`,
    );
    // The queue holds only the pool's own events: the rule filtered the other instance out.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  },
);

test(
  "CloudWatch agent memory: found under the dimension set the agent publishes, not InstanceId alone",
  { skip },
  async () => {
    const cw = new CloudWatchClient(moto.client());
    const id = "i-0agent0000000001";
    // The agent's default append_dimensions: ImageId, InstanceId, InstanceType.
    const dims = [
      { Name: "InstanceId", Value: id },
      { Name: "ImageId", Value: "ami-0abcdef1234567890" },
      { Name: "InstanceType", Value: "m5.large" },
    ];
    await cw.send(
      new PutMetricDataCommand({
        Namespace: "CWAgent",
        MetricData: [{ MetricName: "mem_used_percent", Dimensions: dims, Value: 61 }],
      }),
    );
    assert.deepEqual(await agentMemoryDimensions(cw, id), dims);
    assert.equal(await agentMemoryDimensions(cw, "i-0noagent00000001"), null, "no agent: memory unknown, not an error");
  },
);

test(
  "pool observation: the instance by its tags, its queue by prefix, among other stacks' instances",
  { skip },
  async () => {
    const ec2 = new EC2Client(moto.client());
    const tags = { "managed-by": "fleet", "fleet-area": "pool" };
    const mine = await runTagged(ec2, { ...tags, "fleet-stack": "prod" });
    await runTagged(ec2, { ...tags, "fleet-stack": "dev" });
    // Another stack's pool queue (listed first by name) must not be read for this one.
    await interruptionQueue("i-0devpool00000001", "pool-interruptions-a0", {
      "managed-by": "fleet",
      "fleet-stack": "dev",
    });
    await interruptionQueue(mine, "pool-interruptions-t3", { "managed-by": "fleet", "fleet-stack": "prod" });
    await emit("EC2 Spot Instance Interruption Warning", mine);
    const clients = {
      ec2: (region: string) => new EC2Client(moto.client(region)),
      sqs: (region: string) => new SQSClient(moto.client(region)),
      cloudwatch: (region: string) => new CloudWatchClient(moto.client(region)),
    };
    const pool = {
      provider: "aws" as const,
      region: "us-east-1",
      zone: "us-east-1a",
      instanceType: "m5.large",
      vcpu: 2,
      ramGb: 8,
      market: "spot" as const,
      hourUsd: 0.04,
      since: "2026-12-01T08:00:00.000Z",
    };
    const seen = await observeAwsPool(pool, "prod", clients, Date.now());
    assert.deepEqual(seen.actual, { instanceId: mine, state: "running", interruption: "interruption" });
    assert.equal(seen.usage, null, "no CPU datapoint yet: usage unknown");
  },
);

test("sweep inventory: lists instances tagged managed-by=fleet, terminates what it is told", { skip }, async () => {
  await moto.reset();
  const ec2 = new EC2Client(moto.client());
  const fleetVm = await runTagged(ec2, { "managed-by": "fleet", "fleet-stack": "prod", Name: "burst-1" });
  await runTagged(ec2, { owner: "someone-else" });
  const inv = awsInventory({ regions: ["us-east-1"], client: (region) => new EC2Client(moto.client(region)) });
  const found = await inv.list();
  assert.deepEqual(
    found.map((f) => [f.id, f.name, f.labels["fleet-stack"]]),
    [[fleetVm, "burst-1", "prod"]],
  );
  await inv.remove(found[0]!);
  const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [fleetVm] }));
  assert.equal(after.Reservations![0]!.Instances![0]!.State!.Name, "terminated");
  assert.deepEqual(await inv.list(), []);
});
