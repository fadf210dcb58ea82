import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Renders a template file under stacks/templates: every {{KEY}} is replaced; a placeholder without a
 * value, or a value never used, is an error (a half-rendered startup script must never ship).
 */
export function renderTemplate(name: string, values: Record<string, string | number>, escape: (v: string | number) => string = String): string {
  const text = fs.readFileSync(path.join(__dirname, "templates", name), "utf8");
  const used = new Set<string>();
  const out = text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template ${name}: no value for {{${key}}}`);
    used.add(key);
    return escape(values[key]!);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length) throw new Error(`template ${name}: values never used: ${unused.join(", ")}`);
  return out;
}

/** XML templates: values are escaped, except pre-rendered fragments passed in `fragments`. */
export function renderXmlTemplate(name: string, values: Record<string, string | number>, fragments: Record<string, string> = {}): string {
  const escaped: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) escaped[k] = xmlEscape(v);
  return renderTemplate(name, { ...escaped, ...fragments });
}

export function xmlEscape(v: string | number): string {
  return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
