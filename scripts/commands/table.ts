/** Rows as left-aligned columns separated by two spaces (the first row is the header). */
export function table(rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...column): spreading 100k+ rows overflowed the call stack (issue 18).
  const widths = rows[0]!.map((_, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), 0));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
}
