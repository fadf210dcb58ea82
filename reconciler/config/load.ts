import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { InputError, type Problem } from "../errors";
import { DesiredFleetSchema, FleetPolicySchema, policyCrossFieldProblems, type DesiredFleet, type FleetPolicy } from "../model";
import { deepMerge, readEnvOverrides } from "./env";
import { problemsFromZod } from "./issues";
import { INPUT_LIMITS, readInputFile } from "./input-file";

/** The validated configuration of one stack. */
export interface StackConfig {
  root: string;
  stack: string;
  file: string;
  policy: FleetPolicy;
  /** The applied desired fleet (`fleet:desired`), or the empty fleet when none was written yet. */
  desired: DesiredFleet;
  /** `gcp:project`, the project the program's GCP resources live in (the live readers use it too). */
  gcpProject?: string;
}

/** A GCP project id (https://cloud.google.com/resource-manager/docs/creating-managing-projects). */
const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export const POLICY_KEY = "fleet:policy";
export const DESIRED_KEY = "fleet:desired";

/** The directory holding Pulumi.yaml: the first one up from `start`, else the installed package's. */
export function findProjectRoot(start: string = process.cwd()): string {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  return path.resolve(__dirname, "..", "..");
}

export function stackFile(root: string, stack: string): string {
  return path.join(root, `Pulumi.${stack}.yaml`);
}

/** Reads the stack file (I/O only). */
export function readStackFile(root: string, stack: string): { file: string; text: string } {
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(stack)) {
    throw new InputError("--stack", [{ field: "--stack", message: `'${stack}' is not a stack name (letters, digits, '_', '.', '-')` }]);
  }
  const file = stackFile(root, stack);
  if (!fs.existsSync(file)) {
    throw new InputError("--stack", [
      { field: "--stack", message: `no ${path.basename(file)} in ${root}; create it (e.g. cp Pulumi.local.yaml ${path.basename(file)}) or pick another stack` },
    ]);
  }
  return { file, text: readInputFile(file, { field: "--stack", maxBytes: INPUT_LIMITS.stack, gzip: false }) };
}

/** Parses and validates a stack file's text with env overrides (pure; collects every problem). */
export function parseStackConfig(args: { root: string; stack: string; file: string; text: string; env: NodeJS.ProcessEnv }): StackConfig {
  const name = path.basename(args.file);
  const doc = parseDocument(args.text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new InputError(name, doc.errors.map((e) => ({ field: `${name}:${e.linePos?.[0]?.line ?? "?"}`, message: `invalid YAML: ${e.message.split("\n")[0]}` })));
  }
  const top = (doc.toJS() ?? {}) as Record<string, unknown>;
  const config = (top.config ?? {}) as Record<string, unknown>;
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new InputError(name, [{ field: `${name}: config`, message: "must be a mapping of config keys" }]);
  }

  // The Automation API writes fleet:desired as a JSON string; a person may write it as YAML.
  let rawDesired = config[DESIRED_KEY];
  if (typeof rawDesired === "string") {
    try {
      rawDesired = JSON.parse(rawDesired);
    } catch (e) {
      throw new InputError(name, [{ field: `${name}: ${DESIRED_KEY}`, message: `is a string but not JSON: ${(e as Error).message}` }]);
    }
  }
  const gcpProject = config["gcp:project"];
  if (gcpProject !== undefined && (typeof gcpProject !== "string" || !GCP_PROJECT_ID.test(gcpProject))) {
    throw new InputError(name, [{ field: `${name}: gcp:project`, message: "must be a GCP project id: 6-30 lowercase letters, digits and hyphens, starting with a letter (e.g. my-gcp-project)" }]);
  }
  const { policy, desired } = validateFleetConfig({ label: name, rawPolicy: config[POLICY_KEY], rawDesired, env: args.env, what: `configuration of stack '${args.stack}'` });
  return { root: args.root, stack: args.stack, file: args.file, policy, desired, ...(gcpProject ? { gcpProject } : {}) };
}

/**
 * Validates raw `fleet:policy` (with FLEET_* overrides) and `fleet:desired`; throws one InputError
 * listing every problem. Shared by the CLI and the Pulumi program so both read config the same way.
 */
export function validateFleetConfig(args: { label: string; rawPolicy: unknown; rawDesired: unknown; env: NodeJS.ProcessEnv; what: string }): { policy: FleetPolicy; desired: DesiredFleet } {
  const problems: Problem[] = [];
  const env = readEnvOverrides(FleetPolicySchema, args.env);
  problems.push(...env.problems);
  const policyResult = FleetPolicySchema.safeParse(deepMerge(args.rawPolicy ?? {}, env.values));
  let policy: FleetPolicy | undefined;
  if (policyResult.success) {
    policy = policyResult.data;
    for (const p of policyCrossFieldProblems(policy)) problems.push({ field: fieldName(args.label, p.path, env.sources), message: p.message });
  } else {
    problems.push(...problemsFromZod("", policyResult.error, (p) => fieldName(args.label, p, env.sources)));
  }
  const desiredResult = DesiredFleetSchema.safeParse(args.rawDesired ?? {});
  if (!desiredResult.success) problems.push(...problemsFromZod(`${args.label}: ${DESIRED_KEY}`, desiredResult.error));
  if (problems.length || !policy || !desiredResult.success) throw new InputError(args.what, problems);
  return { policy, desired: desiredResult.data };
}

function fieldName(file: string, policyPath: string, sources: Map<string, string>): string {
  const fromEnv = sources.get(policyPath);
  return fromEnv ? `${fromEnv} (${POLICY_KEY}.${policyPath})` : `${file}: ${POLICY_KEY}.${policyPath}`;
}

export function loadStackConfig(root: string, stack: string, env: NodeJS.ProcessEnv = process.env): StackConfig {
  const { file, text } = readStackFile(root, stack);
  return parseStackConfig({ root, stack, file, text, env });
}

/** Resolves a path from configuration against the project root. */
export function resolveFromRoot(root: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(root, p);
}
