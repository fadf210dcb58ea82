import * as fs from "node:fs";
import * as path from "node:path";
import { EngineMissingError } from "./errors";

/** Where the Pulumi CLI is, or undefined. Checked by every command that needs the engine. */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "pulumi");
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export const INSTALL_PULUMI_HINT = "install the Pulumi CLI (https://www.pulumi.com/docs/install/, e.g. `curl -fsSL https://get.pulumi.com | sh`) and make sure `pulumi` is on PATH";

/** Exits with how to install the CLI (EngineMissingError) when `what` needs the engine and it is missing. */
export function requireEngine(what: string, env: NodeJS.ProcessEnv = process.env): string {
  const cli = findPulumiCli(env);
  if (!cli) throw new EngineMissingError(what);
  return cli;
}
