/**
 * Host names and addresses as they may reach ssh and scripts (no zod here: a dynamic provider's
 * serialized closure captures this module whole, and zod schemas cannot be serialized).
 */

/** A DNS name (RFC 1123 labels) or an IPv4 address; never starting with '-'. */
export const HOST_RE = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** An IPv6 address (hex groups and colons, optionally an embedded IPv4 tail). */
export const IPV6_RE = /^(?=.*:)[0-9A-Fa-f:.]{2,45}$/;

export const HOST_RULE = "must be a host name or IP address (letters, digits, '-', '.'; IPv6 hex and ':'), not starting with '-'";

export function isHost(v: string): boolean {
  return HOST_RE.test(v) || IPV6_RE.test(v);
}
