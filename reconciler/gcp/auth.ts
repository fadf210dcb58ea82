import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Compute, GoogleAuth, JWT, type AuthClient } from "google-auth-library";

/**
 * Where Fleet's own Google API calls get their credentials, in the order the Pulumi GCP provider
 * reads them (so `fleet` and the program it applies act as the same identity):
 *   1. GOOGLE_OAUTH_ACCESS_TOKEN: a ready access token (about an hour; never refreshed);
 *   2. GOOGLE_CREDENTIALS: a credentials JSON, its content or a path to it;
 *   3. GOOGLE_APPLICATION_CREDENTIALS: the path of a credentials JSON;
 *   4. gcloud's application default credentials (`gcloud auth application-default login`);
 *   5. the metadata server, when Fleet runs on Google Cloud (or GCE_METADATA_HOST names one).
 * Credentials JSONs go through google-auth-library, which refreshes tokens before they expire. A
 * service-account key signs its own short-lived JWT (Google's self-signed JWT, scoped
 * cloud-platform) instead of trading it at the token endpoint.
 */
export const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";

export interface GcpCredentials {
  /** How the credentials were found, for messages (never the secret itself). */
  source: string;
  /** A project the credentials name (a key's project_id), if any. */
  projectId?: string;
  /** The Authorization header value for a request to the URL. */
  authorization(url: string): Promise<string>;
}

function gcloudAdcFile(env: NodeJS.ProcessEnv): string {
  const dir = env.CLOUDSDK_CONFIG ?? path.join(env.HOME ?? os.homedir(), ".config", "gcloud");
  return path.join(dir, "application_default_credentials.json");
}

/** Whether this process runs on Google Cloud (the DMI strings the metadata library checks). */
function onGoogleCloud(env: NodeJS.ProcessEnv): boolean {
  if (env.GCE_METADATA_HOST || env.GCE_METADATA_IP) return true;
  try {
    return /Google/.test(fs.readFileSync("/sys/class/dmi/id/bios_vendor", "utf8"));
  } catch {
    return false;
  }
}

function readJson(text: string, what: string): Record<string, unknown> {
  try {
    const json = JSON.parse(text);
    if (json && typeof json === "object" && typeof json.type === "string") return json;
  } catch {
    /* reported below */
  }
  throw new Error(`${what} is not a Google credentials JSON (it needs a "type" such as service_account)`);
}

function fromJson(json: Record<string, unknown>, source: string): GcpCredentials {
  const client = new GoogleAuth({ scopes: [CLOUD_PLATFORM] }).fromJSON(json as never) as AuthClient;
  if (client instanceof JWT) {
    client.scopes = [CLOUD_PLATFORM];
    client.useJWTAccessWithScope = true;
  }
  const projectId =
    typeof json.project_id === "string"
      ? json.project_id
      : typeof json.quota_project_id === "string"
        ? json.quota_project_id
        : undefined;
  return { source, projectId, authorization: (url) => header(client, url) };
}

async function header(client: AuthClient, url: string): Promise<string> {
  const value = (await client.getRequestHeaders(url)).get("authorization");
  if (!value) throw new Error("Google credentials gave no authorization header");
  return value;
}

/** The credentials the environment offers, or null when it offers none. Bad JSON is an error. */
export function gcpCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): GcpCredentials | null {
  const token = env.GOOGLE_OAUTH_ACCESS_TOKEN;
  if (token) return { source: "GOOGLE_OAUTH_ACCESS_TOKEN", authorization: async () => `Bearer ${token}` };
  const given = env.GOOGLE_CREDENTIALS?.trim();
  if (given) {
    const text = given.startsWith("{") ? given : fs.readFileSync(given, "utf8");
    return fromJson(readJson(text, "GOOGLE_CREDENTIALS"), "GOOGLE_CREDENTIALS");
  }
  const file = env.GOOGLE_APPLICATION_CREDENTIALS;
  if (file)
    return fromJson(
      readJson(fs.readFileSync(file, "utf8"), `GOOGLE_APPLICATION_CREDENTIALS (${file})`),
      `GOOGLE_APPLICATION_CREDENTIALS (${file})`,
    );
  const adc = gcloudAdcFile(env);
  if (fs.existsSync(adc))
    return fromJson(readJson(fs.readFileSync(adc, "utf8"), adc), `gcloud application default credentials (${adc})`);
  if (onGoogleCloud(env)) {
    const compute = new Compute({ scopes: [CLOUD_PLATFORM] });
    return { source: "the metadata server", authorization: (url) => header(compute, url) };
  }
  return null;
}

/** What to tell a user who has none. */
export const GCP_CREDENTIALS_HINT =
  "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run `gcloud auth application-default login`, " +
  "or set GOOGLE_OAUTH_ACCESS_TOKEN (e.g. from `gcloud auth print-access-token`); and the project in the stack's gcp:project";
