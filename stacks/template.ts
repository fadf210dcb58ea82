import * as fs from "node:fs";
import * as path from "node:path";

/**
 * Templates are files under stacks/templates, read once when this module loads. Holding their text
 * as plain strings matters: dynamic providers render XML at run time, and Pulumi serializes a
 * provider's closure, which can carry strings but not a file path relative to this source file.
 */
const TEMPLATES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    fs
      .readdirSync(path.join(__dirname, "templates"))
      .map((f) => [f, fs.readFileSync(path.join(__dirname, "templates", f), "utf8")]),
  ),
);

/**
 * Renders a template: every {{KEY}} is replaced; a placeholder without a value, or a value never
 * used, is an error (a half-rendered startup script or domain XML must never ship).
 */
export function renderTemplate(name: string, values: Record<string, string | number>, escape: (v: string | number) => string = String): string {
  const text = TEMPLATES[name];
  if (text === undefined) throw new Error(`no template ${name} in stacks/templates`);
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

/**
 * What a value pasted into a shell template may hold: letters, digits and `_ . : / @ + = , [ ] -`
 * and spaces (public keys, `[host]:port`, path lists). No quote, `$`, backtick, `\`, `;`, `&`, `|`,
 * redirection, glob or newline: the value cannot leave the quotes the template puts it in.
 */
export const SHELL_SAFE = /^[A-Za-z0-9_.:/@+=,[\] -]*$/;

/**
 * Shell templates (startup scripts, onstart, the GPU's sync install): every value must be shell-safe
 * (SHELL_SAFE), except `heredocs`, the multi-line values the template wraps in a quoted here-document
 * (private keys, the sync script), which must not contain a line that could end it. A value that
 * fails is an error naming it: the script is never rendered, so nothing of it can run.
 */
export function renderShellTemplate(name: string, values: Record<string, string | number>, heredocs: readonly string[] = []): string {
  for (const [k, v] of Object.entries(values)) {
    const s = String(v);
    if (heredocs.includes(k)) {
      const ender = s.split("\n").find((line) => /^[A-Z_]+$/.test(line.trim()));
      if (ender !== undefined) throw new Error(`template ${name}: ${k} holds the line '${ender}', which could end its here-document`);
    } else if (!SHELL_SAFE.test(s)) {
      throw new Error(`template ${name}: ${k} holds characters a shell would act on (${JSON.stringify(s.slice(0, 60))}); refusing to render`);
    }
  }
  return renderTemplate(name, values);
}
