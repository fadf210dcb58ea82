// The engine tests' `pulumi-resource-aws`: the resources the AWS pool declares (stacks/pool.ts),
// made with the AWS SDK v3 in moto's server (FLEET_TEST_AWS_URL; test/doubles/moto.ts), expanded as
// the Terraform provider the published plugin bridges expands them (hashicorp/terraform-provider-aws:
// internal/service/ec2/vpc_security_group.go, ec2_launch_template.go, ec2_instance.go,
// internal/service/sqs/queue.go, queue_policy.go, internal/service/events/rule.go, target.go,
// internal/service/ec2/ec2_ami_data_source.go). ForceNew fields are cited per resource.
// Limitation, said here and in the README: the Node.js provider server ignores the provider's
// configuration (Configure), so the region is the environment's (AWS_REGION), as moto serves one.
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteLaunchTemplateCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type IpPermission,
  type Tag,
} from "@aws-sdk/client-ec2";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { autoName, defined, kindsProvider, plain, serve, type Kind, type Props } from "./common";

const client = {
  region: process.env.AWS_REGION ?? "us-east-1",
  endpoint: process.env.FLEET_TEST_AWS_URL,
  maxAttempts: 2,
};
const ec2 = new EC2Client(client);
const sqs = new SQSClient(client);
const events = new EventBridgeClient(client);
const ACCOUNT = "123456789012"; // moto's account

const tagList = (tags: Record<string, string> | undefined): Tag[] =>
  Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
/** Tags as the provider reads them: AWS's own (`aws:` prefix, e.g. aws:ec2launchtemplate:id on an
 * instance launched from a template) are ignored (internal/tags keyvaluetags.go IgnoreAWS). */
const tagMap = (tags: Tag[] | undefined) =>
  Object.fromEntries(
    (tags ?? []).filter((t) => !(t.Key ?? "").startsWith("aws:")).map((t) => [t.Key ?? "", t.Value ?? ""]),
  );
const code = (e: unknown) =>
  String((e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? "");

/** A read whose "no such thing" error means gone (the provider's tfresource.NotFound: out of the state). */
async function orGone<T>(f: () => Promise<T>, gone: RegExp): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (gone.test(code(e)) || gone.test(String(e))) return undefined;
    throw e;
  }
}

async function updateTags(id: string, olds: Props, news: Props) {
  const before = olds.tags ?? {};
  const after = news.tags ?? {};
  const gone = Object.keys(before).filter((k) => !(k in after));
  if (gone.length) await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: gone.map((Key) => ({ Key })) }));
  if (Object.keys(after).length) await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tagList(after) }));
}

/** The bridge's auto-name for a resource whose name the program leaves out. */
const named =
  (field = "name") =>
  (urn: string, olds: Props, news: Props) =>
    news[field] !== undefined ? news : { ...news, [field]: olds?.[field] ?? autoName(urn) };

const permissions = (rules: Props[] | undefined): IpPermission[] =>
  (rules ?? []).map((r) => ({
    IpProtocol: String(r.protocol),
    FromPort: r.fromPort,
    ToPort: r.toPort,
    IpRanges: (r.cidrBlocks ?? []).map((CidrIp: string) => ({ CidrIp })),
    Ipv6Ranges: (r.ipv6CidrBlocks ?? []).map((CidrIpv6: string) => ({ CidrIpv6 })),
  }));

function launchTemplateData(i: Props) {
  const m = i.instanceMarketOptions;
  return {
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    SecurityGroupIds: i.vpcSecurityGroupIds,
    MetadataOptions: i.metadataOptions ? { HttpTokens: i.metadataOptions.httpTokens } : undefined,
    InstanceMarketOptions: m
      ? {
          MarketType: m.marketType,
          SpotOptions: m.spotOptions
            ? {
                SpotInstanceType: m.spotOptions.spotInstanceType,
                InstanceInterruptionBehavior: m.spotOptions.instanceInterruptionBehavior,
              }
            : undefined,
        }
      : undefined,
    // The provider's expandLaunchTemplateEbsBlockDevice: its string booleans ("true") to booleans.
    BlockDeviceMappings: (i.blockDeviceMappings ?? []).map((b: Props) => ({
      DeviceName: b.deviceName,
      Ebs: b.ebs
        ? {
            VolumeSize: b.ebs.volumeSize,
            VolumeType: b.ebs.volumeType,
            DeleteOnTermination:
              b.ebs.deleteOnTermination === undefined ? undefined : String(b.ebs.deleteOnTermination) === "true",
            Encrypted: b.ebs.encrypted === undefined ? undefined : String(b.ebs.encrypted) === "true",
          }
        : undefined,
    })),
    TagSpecifications: (i.tagSpecifications ?? []).map((t: Props) => ({
      ResourceType: t.resourceType,
      Tags: tagList(t.tags),
    })),
  };
}

async function queueAttributes(url: string): Promise<Record<string, string> | undefined> {
  const r = await orGone(
    () => sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })),
    /NonExistentQueue|QueueDoesNotExist/,
  );
  return r?.Attributes;
}

const KINDS: Record<string, Kind> = {
  // vpc_security_group.go: name, name_prefix, description, vpc_id ForceNew; ingress, egress, tags in place.
  "aws:ec2/securityGroup:SecurityGroup": {
    fields: ["name", "description", "vpcId", "ingress", "egress", "tags"],
    forceNew: ["name", "description", "vpcId"],
    maps: ["tags"],
    check: named(),
    async create(i) {
      const made = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: i.name,
          Description: i.description ?? "Managed by Pulumi",
          VpcId: i.vpcId,
        }),
      );
      const id = made.GroupId!;
      // As the provider does: the default allow-all egress goes, the declared rules come.
      await ec2.send(
        new RevokeSecurityGroupEgressCommand({
          GroupId: id,
          IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
        }),
      );
      if (i.egress?.length)
        await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: permissions(i.egress) }));
      if (i.tags) await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tagList(i.tags) }));
      return {
        id,
        outs: { ...i, arn: `arn:aws:ec2:${client.region}:${ACCOUNT}:security-group/${id}`, ownerId: ACCOUNT },
      };
    },
    async read(id, i) {
      const r = await orGone(
        () => ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] })),
        /InvalidGroup\.NotFound/,
      );
      const g = r?.SecurityGroups?.[0];
      return g && { ...i, name: g.GroupName, description: g.Description, vpcId: i.vpcId, tags: tagMap(g.Tags) };
    },
    update: (id, olds, news) => updateTags(id, olds, news),
    async delete(id) {
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
    },
  },
  // ec2_launch_template.go: name, name_prefix ForceNew; any other change makes a new version.
  "aws:ec2/launchTemplate:LaunchTemplate": {
    fields: [
      "name",
      "imageId",
      "instanceType",
      "instanceMarketOptions",
      "metadataOptions",
      "vpcSecurityGroupIds",
      "blockDeviceMappings",
      "tags",
      "tagSpecifications",
    ],
    forceNew: ["name"],
    maps: ["tags"],
    check: named(),
    async create(i) {
      const r = await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: i.name,
          LaunchTemplateData: launchTemplateData(i),
          TagSpecifications: i.tags ? [{ ResourceType: "launch-template", Tags: tagList(i.tags) }] : undefined,
        }),
      );
      const lt = r.LaunchTemplate!;
      const id = lt.LaunchTemplateId!;
      return {
        id,
        outs: {
          ...i,
          arn: `arn:aws:ec2:${client.region}:${ACCOUNT}:launch-template/${id}`,
          latestVersion: lt.LatestVersionNumber,
          defaultVersion: lt.DefaultVersionNumber,
        },
      };
    },
    async read(id, i) {
      const r = await orGone(
        () => ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })),
        /NotFound/,
      );
      const lt = r?.LaunchTemplates?.[0];
      return (
        lt && {
          ...i,
          name: lt.LaunchTemplateName,
          latestVersion: lt.LatestVersionNumber,
          defaultVersion: lt.DefaultVersionNumber,
        }
      );
    },
    async update(id, _olds, news) {
      await ec2.send(
        new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: id, LaunchTemplateData: launchTemplateData(news) }),
      );
    },
    async delete(id) {
      await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: id }));
    },
  },
  // ec2_instance.go: availability_zone, subnet_id and the launch_template block ForceNew; tags in place.
  // A terminated instance reads as gone.
  "aws:ec2/instance:Instance": {
    fields: ["launchTemplate", "availabilityZone", "subnetId", "tags"],
    forceNew: ["launchTemplate", "availabilityZone", "subnetId"],
    maps: ["tags"],
    async create(i) {
      const r = await ec2.send(
        new RunInstancesCommand({
          MinCount: 1,
          MaxCount: 1,
          LaunchTemplate: { LaunchTemplateId: i.launchTemplate.id, Version: i.launchTemplate.version },
          Placement: i.availabilityZone ? { AvailabilityZone: i.availabilityZone } : undefined,
          SubnetId: i.subnetId,
          TagSpecifications: i.tags ? [{ ResourceType: "instance", Tags: tagList(i.tags) }] : undefined,
        }),
      );
      const id = r.Instances![0]!.InstanceId!;
      return { id, outs: (await KINDS["aws:ec2/instance:Instance"]!.read(id, i))! };
    },
    async read(id, i) {
      const r = await orGone(
        () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })),
        /InvalidInstanceID\.NotFound/,
      );
      const inst = r?.Reservations?.[0]?.Instances?.[0];
      if (!inst || ["terminated", "shutting-down"].includes(inst.State?.Name ?? "")) return undefined;
      return {
        ...i,
        arn: `arn:aws:ec2:${client.region}:${ACCOUNT}:instance/${id}`,
        instanceState: inst.State?.Name,
        instanceType: inst.InstanceType,
        availabilityZone: i.availabilityZone ?? inst.Placement?.AvailabilityZone,
        privateIp: inst.PrivateIpAddress,
        publicIp: inst.PublicIpAddress,
        tags: tagMap(inst.Tags),
      };
    },
    update: (id, olds, news) => updateTags(id, olds, news),
    async delete(id) {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    },
  },
  // sqs/queue.go: name, name_prefix, fifo_queue ForceNew; attributes and tags in place.
  "aws:sqs/queue:Queue": {
    fields: ["name", "messageRetentionSeconds", "sqsManagedSseEnabled", "tags"],
    forceNew: ["name"],
    maps: ["tags"],
    check: named(),
    async create(i) {
      const attrs: Record<string, string> = {};
      if (i.messageRetentionSeconds !== undefined) attrs.MessageRetentionPeriod = String(i.messageRetentionSeconds);
      if (i.sqsManagedSseEnabled !== undefined) attrs.SqsManagedSseEnabled = String(i.sqsManagedSseEnabled);
      const r = await sqs.send(new CreateQueueCommand({ QueueName: i.name, Attributes: attrs, tags: i.tags }));
      const url = r.QueueUrl!;
      const got = await queueAttributes(url);
      return { id: url, outs: { ...i, url, arn: got?.QueueArn } };
    },
    async read(id, i) {
      const got = await queueAttributes(id);
      return got && { ...i, url: id, arn: got.QueueArn, messageRetentionSeconds: Number(got.MessageRetentionPeriod) };
    },
    // As resource_queue.go's update: SetQueueAttributes only when an attribute changed (tags are not
    // attributes), tags by TagQueue/UntagQueue. (moto's SetQueueAttributes also clears a Policy the
    // call does not name, moto/sqs/models.py Queue._set_attributes, where SQS changes only what is
    // given: a tags-only change must not reach it.)
    async update(id, olds, news) {
      const attrs: Record<string, string> = {};
      if (news.messageRetentionSeconds !== olds.messageRetentionSeconds) attrs.MessageRetentionPeriod = String(news.messageRetentionSeconds);
      if (news.sqsManagedSseEnabled !== olds.sqsManagedSseEnabled) attrs.SqsManagedSseEnabled = String(news.sqsManagedSseEnabled);
      if (Object.keys(attrs).length) await sqs.send(new SetQueueAttributesCommand({ QueueUrl: id, Attributes: attrs }));
      const before: Record<string, string> = olds.tags ?? {};
      const after: Record<string, string> = news.tags ?? {};
      const gone = Object.keys(before).filter((k) => !(k in after));
      if (gone.length) await sqs.send(new UntagQueueCommand({ QueueUrl: id, TagKeys: gone }));
      const changed = Object.fromEntries(Object.entries(after).filter(([k, v]) => before[k] !== v));
      if (Object.keys(changed).length) await sqs.send(new TagQueueCommand({ QueueUrl: id, Tags: changed }));
    },
    async delete(id) {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: id }));
    },
  },
  // sqs/queue_policy.go: queue_url ForceNew; policy in place. Its id is the queue's URL.
  "aws:sqs/queuePolicy:QueuePolicy": {
    fields: ["queueUrl", "policy"],
    forceNew: ["queueUrl"],
    async create(i) {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: i.queueUrl, Attributes: { Policy: i.policy } }));
      return { id: i.queueUrl, outs: i };
    },
    async read(id, i) {
      const got = await queueAttributes(id);
      return got?.Policy ? { ...i, queueUrl: id } : undefined;
    },
    async update(id, _olds, news) {
      await sqs.send(new SetQueueAttributesCommand({ QueueUrl: id, Attributes: { Policy: news.policy } }));
    },
    async delete(id) {
      await orGone(
        () => sqs.send(new SetQueueAttributesCommand({ QueueUrl: id, Attributes: { Policy: "" } })),
        /NonExistentQueue|QueueDoesNotExist/,
      );
    },
  },
  // events/rule.go: name, name_prefix, event_bus_name ForceNew; event_pattern and tags in place (PutRule).
  "aws:cloudwatch/eventRule:EventRule": {
    fields: ["name", "eventPattern", "tags"],
    forceNew: ["name"],
    maps: ["tags"],
    check: named(),
    async create(i) {
      const tags = Object.entries<string>(i.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
      const r = await events.send(new PutRuleCommand({ Name: i.name, EventPattern: i.eventPattern, Tags: tags }));
      return { id: i.name, outs: { ...i, arn: r.RuleArn } };
    },
    async read(id, i) {
      const r = await orGone(() => events.send(new DescribeRuleCommand({ Name: id })), /ResourceNotFound/);
      return r && { ...i, name: r.Name, eventPattern: r.EventPattern, arn: r.Arn };
    },
    async update(id, _olds, news) {
      await events.send(new PutRuleCommand({ Name: id, EventPattern: news.eventPattern }));
    },
    async delete(id) {
      await events.send(new DeleteRuleCommand({ Name: id }));
    },
  },
  // events/target.go: rule, target_id, event_bus_name ForceNew; arn in place (PutTargets).
  "aws:cloudwatch/eventTarget:EventTarget": {
    fields: ["rule", "targetId", "arn"],
    forceNew: ["rule", "targetId"],
    check: (urn, olds, news) =>
      news.targetId !== undefined ? news : { ...news, targetId: olds?.targetId ?? autoName(urn) },
    async create(i) {
      await events.send(new PutTargetsCommand({ Rule: i.rule, Targets: [{ Id: i.targetId, Arn: i.arn }] }));
      return { id: `${i.rule}-${i.targetId}`, outs: i };
    },
    async read(_id, i) {
      const r = await orGone(() => events.send(new ListTargetsByRuleCommand({ Rule: i.rule })), /ResourceNotFound/);
      const t = r?.Targets?.find((x) => x.Id === i.targetId);
      return t && { ...i, arn: t.Arn };
    },
    async update(_id, _olds, news) {
      await events.send(new PutTargetsCommand({ Rule: news.rule, Targets: [{ Id: news.targetId, Arn: news.arn }] }));
    },
    async delete(_id, i) {
      await orGone(
        () => events.send(new RemoveTargetsCommand({ Rule: i.rule, Ids: [i.targetId] })),
        /ResourceNotFound/,
      );
    },
  },
};

/**
 * ec2_ami_data_source.go: DescribeImages with the filters and owners given; exactly one image, or
 * the provider's own errors ("Your query returned no results", "more than one result").
 */
async function getAmi(args: Props): Promise<Props> {
  const r = await ec2.send(
    new DescribeImagesCommand({
      Filters: (args.filters ?? []).map((f: Props) => ({ Name: f.name, Values: f.values })),
      Owners: args.owners,
      IncludeDeprecated: args.includeDeprecated,
    }),
  );
  const images = r.Images ?? [];
  if (images.length === 0)
    throw new Error("Your query returned no results. Please change your search criteria and try again.");
  if (images.length > 1 && !args.mostRecent)
    throw new Error(
      "Your query returned more than one result. Please try a more specific search criteria, or set `most_recent` attribute to true.",
    );
  const img = images[0]!;
  return {
    ...args,
    id: img.ImageId,
    imageId: img.ImageId,
    name: img.Name,
    rootDeviceName: img.RootDeviceName,
    architecture: img.Architecture,
  };
}

const awsProvider = kindsProvider({
  pkg: "aws",
  version: "7.48.0",
  kinds: KINDS,
  async invoke(token, inputs) {
    if (token === "aws:ec2/getAmi:getAmi") return { outputs: defined(await getAmi(plain(inputs))) };
    throw new Error(`the test aws plugin does not serve the function ${token}`);
  },
});

if (require.main === module) void serve(awsProvider);
