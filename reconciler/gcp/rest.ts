import { gcpCredentialsFromEnv } from "./auth";
import { FleetError } from "../errors";

/**
 * A minimal Google Cloud REST caller: credentials as the Pulumi GCP provider finds them
 * (reconciler/gcp/auth.ts: an access token, a credentials JSON, gcloud's application default
 * credentials, the metadata server; refreshed before expiry), a base URL per API that honours
 * gcloud's endpoint overrides (CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>), JSON in and out, errors that
 * name the call and carry Google's message (never the credential).
 */
export interface GcpAuth {
  project: string;
  /** A fixed access token, or the Authorization header for a URL (refreshed as it expires). */
  token: string | ((url: string) => Promise<string>);
}

export const GCP_APIS = {
  compute: { env: "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", url: "https://compute.googleapis.com/compute/v1/" },
  monitoring: { env: "CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING", url: "https://monitoring.googleapis.com/" },
  cloudbilling: { env: "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBILLING", url: "https://cloudbilling.googleapis.com/" },
} as const;

/** Google answered with an error, or could not be reached (status 0). */
export class GcpHttpError extends FleetError {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * Project and credentials, or null when either is missing. The project is the stack's `gcp:project`
 * when it has one (where the program puts the resources), else the environment's, as the provider
 * reads it, else the one the credentials name.
 */
export function gcpAuthFromEnv(env: NodeJS.ProcessEnv = process.env, stackProject?: string): GcpAuth | null {
  const creds = gcpCredentialsFromEnv(env);
  if (!creds) return null;
  const project = stackProject ?? env.GOOGLE_PROJECT ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT ?? creds.projectId;
  return project ? { project, token: (url) => creds.authorization(url) } : null;
}

async function authorization(auth: GcpAuth, url: string): Promise<string> {
  return typeof auth.token === "string" ? `Bearer ${auth.token}` : auth.token(url);
}

export function gcpBase(api: keyof typeof GCP_APIS, env: NodeJS.ProcessEnv = process.env, override?: string): string {
  return (override ?? env[GCP_APIS[api].env] ?? GCP_APIS[api].url).replace(/\/?$/, "/");
}

export async function gcpCall(base: string, auth: GcpAuth, method: string, path: string, timeoutMs = 20_000): Promise<any> {
  const url = base + path;
  const headers = { Authorization: await authorization(auth, url) };
  const where = `GCP ${method} ${path.split("?")[0]}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new GcpHttpError(`${where}: unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`, 0);
  }
  const text = await res.text();
  if (!res.ok) {
    let msg = text.slice(0, 200);
    try {
      msg = JSON.parse(text)?.error?.message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new GcpHttpError(`${where}: ${res.status} ${msg}`, res.status);
  }
  return text ? JSON.parse(text) : {};
}
