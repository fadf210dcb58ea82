import { z } from "zod";

/**
 * Config values that reach a shell, ssh, rsync or a startup script, checked where they enter
 * (hosts and ports from Vast are checked by ./hosts.ts, in the Vast client). Each pattern admits only what the value can legitimately be, so nothing that a
 * shell treats specially (quotes, `$`, backticks, `;`, `&`, `|`, redirections, newlines, spaces in
 * hosts) and nothing starting with `-` (an option to ssh or rsync) gets through.
 */

/** An absolute path of safe characters, without `..` segments (sync paths, rsync arguments). */
export const SAFE_PATH_RE = /^\/(?:[A-Za-z0-9._@+-]+\/?)*$/;
export const safePath = z
  .string()
  .regex(SAFE_PATH_RE, "must be an absolute path of letters, digits and . _ @ + - (no spaces, quotes or shell characters)")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");
