#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's test runner (through tsx), in two stages: everything but
// the real-engine tests, then test/engine (the Pulumi engine: its own stage, as it is the slowest).
// Extra args pass through, e.g. `node scripts/run-tests.cjs test/unit` to run one folder.
// The engine built by scripts/engine/build.sh (.pulumi-engine/bin) is put first on PATH when present.
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const engineBin = path.join(root, ".pulumi-engine", "bin");
const env = { ...process.env };
if (fs.existsSync(path.join(engineBin, "pulumi"))) env.PATH = `${engineBin}${path.delimiter}${env.PATH ?? ""}`;
env.PULUMI_SKIP_UPDATE_CHECK = "1";

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith(".test.ts") ? [p] : [];
  });
}

function run(label, files, concurrency) {
  if (!files.length) return 0;
  console.log(`\n== ${label}: ${files.length} test file(s)`);
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files], { stdio: "inherit", env });
  return r.status === null ? 1 : r.status;
}

const args = process.argv.slice(2);
const files = (args.length ? args : ["test"]).flatMap(find).sort();
if (files.length === 0) {
  console.error("no test files found under " + (args.length ? args : ["test"]).join(", "));
  process.exit(1);
}
const isEngine = (f) => path.relative(root, path.resolve(f)).split(path.sep).slice(0, 2).join("/") === "test/engine";
// Both stages spend much of their time waiting on child processes (the engine, sshd, libvirtd,
// chromium), so three test files run at once on two cores (measured: see README, "Two commands").
const codes = [
  run("unit, CLI, mock-runtime and integration tests", files.filter((f) => !isEngine(f)), Number(process.env.FLEET_TEST_CONCURRENCY ?? 3)),
  run("real Pulumi engine tests", files.filter(isEngine), Number(process.env.FLEET_ENGINE_TEST_CONCURRENCY ?? 4)),
];
process.exit(codes.find((c) => c !== 0) ?? 0);
