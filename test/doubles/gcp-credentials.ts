// How Google's APIs judge the Authorization header, for the GCP double (gcp-cloud.ts):
// - OAuth access tokens are accepted until they expire (the metadata server's and the token
//   endpoint's tokens carry expires_in; https://cloud.google.com/compute/docs/access/authenticate-workloads);
// - a service account's self-signed JWT (https://developers.google.com/identity/protocols/oauth2/
//   service-account#jwt-auth): RS256, `kid` naming one of the account's keys, iss = sub = the
//   account's email, a `scope` (or an `aud` of the API's own URL), and at most an hour between iat
//   and exp; verified with the public half of the key Google holds for that kid.
// Anything else is a 401 UNAUTHENTICATED, with Google's message.
import { createPublicKey, createVerify, type KeyObject } from "node:crypto";

export const UNAUTHENTICATED =
  "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";

export class GcpCredentialJudge {
  private readonly tokens = new Map<string, number>();
  private readonly keys = new Map<string, { email: string; key: KeyObject }>();
  /** Accepted headers, newest last (for tests to see what was presented). */
  readonly seen: { kind: "token" | "jwt"; subject: string }[] = [];

  /** A token good until expiresAtMs (Infinity: a fixed test token). */
  acceptToken(token: string, expiresAtMs = Infinity): void {
    this.tokens.set(token, expiresAtMs);
  }

  /** The public half of a service account key, as Google keeps it for its kid. */
  trustServiceAccountKey(email: string, keyId: string, privateOrPublicPem: string): void {
    this.keys.set(keyId, { email, key: createPublicKey(privateOrPublicPem) });
  }

  /** Why the header is refused, or null. */
  refusal(header: string | undefined, nowMs = Date.now()): string | null {
    const m = /^Bearer (\S+)$/.exec(header ?? "");
    if (!m) return "no bearer credential";
    const credential = m[1]!;
    const expiry = this.tokens.get(credential);
    if (expiry !== undefined) {
      if (nowMs >= expiry) return "the access token has expired";
      this.seen.push({ kind: "token", subject: credential.slice(0, 6) });
      return null;
    }
    return this.jwtRefusal(credential, nowMs);
  }

  private jwtRefusal(jwt: string, nowMs: number): string | null {
    const parts = jwt.split(".");
    if (parts.length !== 3) return "not a known token or JWT";
    let head: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      head = JSON.parse(Buffer.from(parts[0]!, "base64url").toString("utf8"));
      claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    } catch {
      return "malformed JWT";
    }
    if (head.alg !== "RS256") return `JWT alg ${head.alg} is not RS256`;
    const key = this.keys.get(String(head.kid));
    if (!key) return `JWT kid ${head.kid} is not a key of any service account`;
    const verify = createVerify("RSA-SHA256");
    verify.update(`${parts[0]}.${parts[1]}`);
    if (!verify.verify(key.key, Buffer.from(parts[2]!, "base64url"))) return "JWT signature does not verify";
    if (claims.iss !== key.email || claims.sub !== key.email) return "JWT iss/sub is not the key's service account";
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp - iat > 3600) return "JWT lifetime is over an hour";
    if (nowMs / 1000 >= exp) return "JWT has expired";
    const scopes = String(claims.scope ?? "").split(" ");
    if (!scopes.includes("https://www.googleapis.com/auth/cloud-platform") && !claims.aud)
      return "JWT has no scope or audience";
    this.seen.push({ kind: "jwt", subject: key.email });
    return null;
  }
}
