import type { z } from "zod";
import type { Problem } from "../errors";

/** Turns zod issues into problems that name the field and say how to fix it. */
export function problemsFromZod(prefix: string, error: z.ZodError, rename?: (path: string) => string): Problem[] {
  return error.issues.map((issue) => {
    const path = joinPath("", issue.path);
    return { field: rename ? rename(path) : joinPath(prefix, issue.path), message: describe(issue) };
  });
}

export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(root)";
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `'${k}'`).join(", ");
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}: remove ${issue.keys.length > 1 ? "them" : "it"} or check the spelling`;
  }
  if (issue.code === "invalid_type" && /received undefined/.test(issue.message)) {
    return `is required (${issue.expected})`;
  }
  return issue.message;
}
