#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (through tsx). Extra args pass through,
// e.g. `node scripts/run-tests.cjs test/unit` to run one folder.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith(".test.ts") ? [p] : [];
  });
}

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
const files = roots.flatMap(find).sort();
if (files.length === 0) {
  console.error("no test files found under " + roots.join(", "));
  process.exit(1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], { stdio: "inherit" });
process.exit(r.status === null ? 1 : r.status);
