/**
 * A minimal Google Cloud REST caller: OAuth access token (GOOGLE_OAUTH_ACCESS_TOKEN, as the Pulumi
 * GCP provider reads it), a base URL per API that honours gcloud's endpoint overrides
 * (CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>), JSON in and out, errors that name the call and carry
 * Google's message (never the token).
 */
export interface GcpAuth {
  project: string;
  token: string;
}

export const GCP_APIS = {
  compute: { env: "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", url: "https://compute.googleapis.com/compute/v1/" },
  monitoring: { env: "CLOUDSDK_API_ENDPOINT_OVERRIDES_MONITORING", url: "https://monitoring.googleapis.com/" },
} as const;

export class GcpHttpError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * Project and token, or null when either is missing. The project is the stack's `gcp:project` when
 * it has one (where the program puts the resources), else the environment's, as the provider reads it.
 */
export function gcpAuthFromEnv(env: NodeJS.ProcessEnv = process.env, stackProject?: string): GcpAuth | null {
  const project = stackProject ?? env.GOOGLE_PROJECT ?? env.GOOGLE_CLOUD_PROJECT ?? env.CLOUDSDK_CORE_PROJECT;
  return project && env.GOOGLE_OAUTH_ACCESS_TOKEN ? { project, token: env.GOOGLE_OAUTH_ACCESS_TOKEN } : null;
}

export function gcpBase(api: keyof typeof GCP_APIS, env: NodeJS.ProcessEnv = process.env, override?: string): string {
  return (override ?? env[GCP_APIS[api].env] ?? GCP_APIS[api].url).replace(/\/?$/, "/");
}

export async function gcpCall(base: string, auth: GcpAuth, method: string, path: string, timeoutMs = 20_000): Promise<any> {
  const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${auth.token}` }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) {
    let msg = text.slice(0, 200);
    try {
      msg = JSON.parse(text)?.error?.message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new GcpHttpError(`GCP ${method} ${path.split("?")[0]}: ${res.status} ${msg}`, res.status);
  }
  return text ? JSON.parse(text) : {};
}
