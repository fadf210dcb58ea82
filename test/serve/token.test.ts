import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { bearerMatches, ensureToken } from "../../reconciler/serve/token";
import { runFleet, tempProject } from "../helpers";

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
