import { z } from "zod";

/**
 * Values that reach a shell, ssh, rsync or a startup script, checked where they enter (Vast's
 * answers, config). Each pattern admits only what the value can legitimately be, so nothing that a
 * shell treats specially (quotes, `$`, backticks, `;`, `&`, `|`, redirections, newlines, spaces in
 * hosts) and nothing starting with `-` (an option to ssh or rsync) gets through.
 */

/** A DNS name (RFC 1123 labels) or an IPv4 address. */
export const HOST_RE = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** An IPv6 address (hex groups and colons, optionally an embedded IPv4 tail). */
export const IPV6_RE = /^(?=.*:)[0-9A-Fa-f:.]{2,45}$/;

export function isHost(v: string): boolean {
  return HOST_RE.test(v) || IPV6_RE.test(v);
}

export const hostName = z.string().refine(isHost, "must be a host name or IP address (letters, digits, '-', '.'; IPv6 hex and ':'), not starting with '-'");
export const tcpPort = z.int().min(1).max(65535);

/** An absolute path of safe characters, without `..` segments (sync paths, rsync arguments). */
export const SAFE_PATH_RE = /^\/(?:[A-Za-z0-9._@+-]+\/?)*$/;
export const safePath = z
  .string()
  .regex(SAFE_PATH_RE, "must be an absolute path of letters, digits and . _ @ + - (no spaces, quotes or shell characters)")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");
