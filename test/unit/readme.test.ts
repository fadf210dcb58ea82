import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { policyLeaves } from "../../reconciler/config/env";
import { FleetPolicySchema } from "../../reconciler/model";
import { REPO } from "../helpers";

const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");

test("README documents every policy key with its variable and its schema default", () => {
  const defaults = FleetPolicySchema.parse({}) as Record<string, any>;
  for (const leaf of policyLeaves(FleetPolicySchema)) {
    const key = leaf.path.join(".");
    const row = readme.split("\n").find((l) => l.startsWith(`| ${key} | ${leaf.env} |`));
    assert.ok(row, `README has no row for ${key} / ${leaf.env}`);
    const value = leaf.path.reduce((o, k) => o[k], defaults);
    const shown = Array.isArray(value) ? value.join(", ") : typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
    assert.equal(row!.split("|")[3]!.trim(), shown, `README default of ${key}`);
  }
});

test("README opens with the two commands, and .ci/run runs its test command", () => {
  const head = readme.split("\n").slice(0, 25).join("\n");
  assert.match(head, /npm ci && npx fleet plan/);
  assert.match(head, /npm ci && npm test/);
  assert.match(fs.readFileSync(path.join(REPO, ".ci", "run"), "utf8"), /^npm test$/m);
});
