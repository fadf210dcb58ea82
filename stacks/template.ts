import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Renders a template file under stacks/templates: every {{KEY}} is replaced; a placeholder without a
 * value, or a value never used, is an error (a half-rendered startup script must never ship).
 */
export function renderTemplate(name: string, values: Record<string, string | number>): string {
  const text = fs.readFileSync(path.join(__dirname, "templates", name), "utf8");
  const used = new Set<string>();
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${name}: no value for {{${key}}}`);
    used.add(key);
    return String(values[key]);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`template ${name}: values never used: ${unused.join(", ")}`);
  return out;
}
