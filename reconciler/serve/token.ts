import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The API's bearer token: generated on first run (32 random bytes, base64url), stored with 0600
 * permissions, and shown once (the caller prints it only when `created`). A token file readable by
 * others is refused: fix its permissions or delete it to get a new one.
 */
export function ensureToken(file: string): { token: string; created: boolean } {
  if (fs.existsSync(file)) {
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) throw new Error(`${file} is readable by others (mode ${mode.toString(8)}): run \`chmod 600 ${file}\` or delete it for a new token`);
    const token = fs.readFileSync(file, "utf8").trim();
    if (token.length < 32) throw new Error(`${file} does not hold a token: delete it for a new one`);
    return { token, created: false };
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(32).toString("base64url");
  // wx: never overwrite a token another process just wrote; 0600 from the start.
  fs.writeFileSync(file, token + "\n", { mode: 0o600, flag: "wx" });
  return { token, created: true };
}

/** Constant-time check of an Authorization header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
