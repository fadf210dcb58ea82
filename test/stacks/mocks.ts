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
        return { id: `${args.name}-id`, state };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return args.inputs;
      },
    },
    project,
    stack,
    false,
  );
  return created;
}

export function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}
