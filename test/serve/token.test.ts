import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bearerMatches, ensureToken } from "../../reconciler/serve/token";
import { REPO, runFleet, tempProject } from "../helpers";

test("api token: made once with mode 0600, the same afterwards; a token readable by others is refused", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-token-"));
  const file = path.join(dir, "sub", "api-token");
  const first = ensureToken(file);
  assert.equal(first.created, true);
  assert.ok(first.token.length >= 40);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(ensureToken(file), { token: first.token, created: false });
  fs.chmodSync(file, 0o644);
  assert.throws(() => ensureToken(file), /readable by others \(mode 644\): run `chmod 600/);
  assert.equal(bearerMatches(`Bearer ${first.token}`, first.token), true);
  assert.equal(bearerMatches(`Bearer ${first.token.slice(1)}`, first.token), false);
  assert.equal(bearerMatches(first.token, first.token), false, "the scheme is required");
  fs.rmSync(dir, { recursive: true, force: true });
});

test("fleet serve: a bad --port exits 2 naming the flag, before any token or journal is made", () => {
  const dir = tempProject("config: {}\n");
  for (const port of ["http", "70000"]) {
    const r = runFleet(["--stack", "test", "serve", "--port", port], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--port: /);
  }
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false);
});

test("fleet serve: a non-loopback address without TLS, or half a TLS pair, exits 2 naming the flag; nothing is made", () => {
  const dir = tempProject("config: {}\n");
  for (const [args, field] of [
    [["--host", "0.0.0.0"], /--host: 0\.0\.0\.0 is not a loopback address: serving it needs TLS/],
    [["--tls-cert", "/tmp/cert.pem"], /--tls-key: give both --tls-cert and --tls-key, or neither/],
    [["--host", "0.0.0.0", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"], /--tls-cert: cannot read \/nonexistent\/c\.pem: ENOENT/],
  ] as const) {
    const r = runFleet(["--stack", "test", "serve", "--port", "0", ...args], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, field);
  }
  assert.equal(fs.existsSync(path.join(dir, ".fleet")), false);
});

test("fleet serve: the token is written to its file, never to stderr", async () => {
  const dir = tempProject("config: {}\n");
  const child = require("node:child_process").spawn(process.execPath, [path.join(REPO, "scripts", "fleet.cjs"), "--stack", "test", "serve", "--port", "0"], { cwd: dir });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c));
  try {
    const file = path.join(dir, ".fleet", "api-token");
    for (let i = 0; i < 200 && !/serving stack/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stderr, /API token written to .*api-token \(mode 0600\)/);
    const token = fs.readFileSync(file, "utf8").trim();
    assert.ok(token.length >= 32);
    assert.ok(!stderr.includes(token), "the token is not on stderr");
  } finally {
    child.kill("SIGTERM");
  }
});
