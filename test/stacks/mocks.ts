import * as pulumi from "@pulumi/pulumi";

export interface Created {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/** Installs Pulumi mocks that record every resource; returns the record. */
export function installMocks(project = "fleet", stack = "test"): Created[] {
  const created: Created[] = [];
  pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        created.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "gcp:serviceaccount/account:Account") state.email = `${args.inputs.accountId}@proj.iam.gserviceaccount.com`;
        if (args.type === "tls:index/privateKey:PrivateKey") {
          state.privateKeyOpenssh = `-----BEGIN OPENSSH PRIVATE KEY-----\nmock-${args.name}\n-----END OPENSSH PRIVATE KEY-----\n`;
          state.publicKeyOpenssh = `ssh-ed25519 AAAAmock${args.name}\n`;
        }
        if (args.type === "pulumi-nodejs:dynamic/fleet:VastInstance") {
          const standby = args.inputs.role === "standby";
          Object.assign(state, standby
            ? { publicIp: "203.0.113.30", sshHost: "ssh6.vast.ai", sshPort: 20020, instanceId: 9000002, status: "running", label: `fleet-standby-${args.inputs.pairId}` }
            : { publicIp: "203.0.113.10", sshHost: "ssh5.vast.ai", sshPort: 20010, instanceId: 9000001, status: "running", label: `fleet-pair-${args.inputs.pairId}` });
        }
        if (args.type === "pulumi-nodejs:dynamic/fleet:GuestHostKey") state.publicKey = `ssh-ed25519 AAAAmockhost${args.inputs.instanceName}`;
        if (args.type === "gcp:compute/instance:Instance") state.instanceId = `${args.name}-instance-id`;
        if (args.type === "gcp:compute/network:Network") state.selfLink = `https://www.googleapis.com/compute/v1/projects/proj/global/networks/${args.inputs.name}`;
        if (args.type === "gcp:compute/instance:Instance") state.networkInterfaces = (args.inputs.networkInterfaces ?? []).map((n: any) => ({ ...n, accessConfigs: [{ natIp: "198.51.100.20" }] }));
        if (args.type.startsWith("aws:")) state.arn = `arn:aws:mock:us-east-1:123456789012:${args.name}`;
        if (args.type === "aws:sqs/queue:Queue") state.url = `https://sqs.us-east-1.amazonaws.com/123456789012/${args.name}`;
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        // An Ubuntu AMI names its root device /dev/sda1 (Amazon Linux: /dev/xvda).
        if (args.token === "aws:ec2/getAmi:getAmi") return { ...args.inputs, id: "ami-0abcdef1234567890", rootDeviceName: "/dev/sda1" };
        if (args.token === "aws:ec2/getSubnet:getSubnet") return { ...args.inputs, vpcId: "vpc-0fleet" };
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  return created;
}

/** Fleet's network as a component gets it (stacks/network.ts), for components built alone. */
export const FLEET_NETWORK_LINK = "https://www.googleapis.com/compute/v1/projects/proj/global/networks/fleet-net-0123456789";
export function networkStub(): { selfLink: pulumi.Output<string>; ready: pulumi.Resource[] } {
  return { selfLink: pulumi.output(FLEET_NETWORK_LINK), ready: [] };
}

export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}
