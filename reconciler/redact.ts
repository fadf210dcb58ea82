/**
 * Credentials out of text that came from elsewhere (an upstream error, a command's output) before it
 * is logged, printed, journalled or served. Plain functions and regular expressions only: the Vast
 * client runs inside a dynamic provider's serialized closure, which captures this module whole.
 */

/** The environment variables that hold credentials Fleet may hand to a service. */
export const SECRET_ENV = [
  "VAST_API_KEY",
  "GOOGLE_OAUTH_ACCESS_TOKEN",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_ACCESS_TOKEN",
];

const SCHEMES = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
const KEYED =
  /\b(api[_-]?key|access[_-]?token|auth[_-]?token|token|secret|password|passphrase|authorization)(["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"'&,;}]+/gi;

/** `text` with every known secret value and every credential-shaped field replaced by [redacted]. */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  const values = [...secrets, ...SECRET_ENV.map((k) => process.env[k])].filter(
    (v): v is string => typeof v === "string" && v.length >= 8,
  );
  for (const v of values.sort((a, b) => b.length - a.length)) out = out.split(v).join("[redacted]");
  return out.replace(SCHEMES, "$1 [redacted]").replace(KEYED, "$1$2[redacted]");
}
