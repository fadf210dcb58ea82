import * as fs from "node:fs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { gcpAuthFromEnv, gcpBase } from "../../reconciler/gcp/rest";
import { GCP_CREDENTIALS_HINT } from "../../reconciler/gcp/auth";
import { findProjectRoot } from "../../reconciler/config/load";
import { stackContext } from "../../reconciler/context";
import { EXIT } from "../../reconciler/errors";
import { lockStack } from "../../reconciler/lock";
import { vastFromEnv } from "../../reconciler/standby/sources";
import { awsInventory, gcpInventory, vastInventory, type Inventory } from "../../reconciler/sweep/inventory";
import { sweepPlan, type FoundResource, type KnownStack, type Orphan } from "../../reconciler/sweep/orphans";
import { table } from "./table";

/** Every stack of the project (Pulumi.<stack>.yaml), each validated. */
function projectStacks(root: string): KnownStack[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => !!s)
    .sort()
    .map((stack) => ({ stack, desired: stackContext(stack).desired }));
}

/** The places to look, from the environment: each needs its credentials; the ones without are named as not swept. */
function inventories(stacks: KnownStack[], env: NodeJS.ProcessEnv): { found: Inventory[]; skipped: string[] } {
  const found: Inventory[] = [];
  const skipped: string[] = [];
  const vast = vastFromEnv(env);
  if (vast) found.push(vastInventory(vast));
  else skipped.push("vast (VAST_API_KEY is not set)");
  const gcp = gcpAuthFromEnv(env);
  if (gcp) found.push(gcpInventory({ auth: gcp, baseUrl: gcpBase("compute", env) }));
  else skipped.push(`gcp (no credentials or project: ${GCP_CREDENTIALS_HINT}, or GOOGLE_PROJECT)`);
  const regions = [...new Set([...(env.AWS_REGION ? [env.AWS_REGION] : []), ...stacks.flatMap((s) => (s.desired.pool?.provider === "aws" ? [s.desired.pool.region] : []))])];
  if (regions.length) found.push(awsInventory({ regions, client: (region) => new EC2Client({ region, maxAttempts: 3 }) }));
  else skipped.push("aws (no AWS pool in any stack and AWS_REGION is not set)");
  return { found, skipped };
}

/**
 * `fleet sweep [--yes]`: resources marked as fleet's that no stack of this project knows. Lists them;
 * deletes them only with --yes, holding every stack's lock so no apply runs meanwhile.
 */
export async function sweepCommand(opts: { yes?: boolean; json?: boolean; includeData?: boolean }): Promise<number> {
  const root = findProjectRoot();
  const stacks = projectStacks(root);
  const { found, skipped } = inventories(stacks, process.env);
  const unlocks = opts.yes ? await Promise.all(stacks.map((s) => lockStack(root, s.stack))) : [];
  try {
    const errors: string[] = [];
    const orphans: (Orphan & { inventory: Inventory })[] = [];
    const leftAlone: Orphan[] = [];
    for (const inv of found) {
      let listed: FoundResource[];
      try {
        listed = await inv.list();
      } catch (e) {
        errors.push(`${inv.name}: could not list (${e instanceof Error ? e.message : String(e)})`);
        continue;
      }
      const plan = sweepPlan(listed, stacks);
      orphans.push(...plan.orphans.map((o) => ({ ...o, inventory: inv })));
      leftAlone.push(...plan.leftAlone);
    }
    const deleted: string[] = [];
    if (opts.yes) {
      for (const o of orphans) {
        // A standby's data (the only copy of a lost GPU's work) goes only when asked for by name of the flag.
        if (o.holdsData && !opts.includeData) continue;
        try {
          await o.inventory.remove(o.resource);
          deleted.push(`${o.resource.provider}:${o.resource.kind}:${o.resource.name}`);
        } catch (e) {
          errors.push(`${o.resource.provider} ${o.resource.kind} ${o.resource.name}: not deleted (${e instanceof Error ? e.message : String(e)})`);
        }
      }
    }
    const rows = orphans.map((o) => ({ provider: o.resource.provider, kind: o.resource.kind, name: o.resource.name, id: o.resource.id, location: o.resource.location, why: o.holdsData ? `${o.why} (holds a standby's data: only with --include-data)` : o.why }));
    const alone = leftAlone.map((o) => ({ provider: o.resource.provider, kind: o.resource.kind, name: o.resource.name, id: o.resource.id, why: o.why }));
    if (opts.json) process.stdout.write(JSON.stringify({ stacks: stacks.map((s) => s.stack), orphans: rows, leftAlone: alone, deleted, skipped, errors }, null, 2) + "\n");
    else {
      const lines = [`stacks: ${stacks.map((s) => s.stack).join(", ") || "none"}; swept: ${found.map((i) => i.name).join(", ") || "nothing"}`];
      for (const s of skipped) lines.push(`not swept: ${s}`);
      if (!rows.length) lines.push("no orphans");
      else {
        lines.push(table([["PROVIDER", "KIND", "NAME", "ID", "LOCATION", "WHY"], ...rows.map((r) => [r.provider, r.kind, r.name, r.id, r.location, r.why])]));
        lines.push(opts.yes ? `deleted ${deleted.length} of ${rows.length}` : `${rows.length} orphan(s); run \`fleet sweep --yes\` to delete them`);
      }
      if (alone.length) lines.push(`left alone (not this project's): ${alone.length}`, ...alone.map((a) => `  ${a.provider} ${a.kind} ${a.name}: ${a.why}`));
      for (const e of errors) lines.push(`error: ${e}`);
      process.stdout.write(lines.join("\n") + "\n");
    }
    return errors.length ? EXIT.failure : EXIT.ok;
  } finally {
    for (const u of unlocks) await u();
  }
}
