import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { REPO } from "../helpers";

/**
 * Issue 19, item 7: the pull-request preview gave the production passphrase and credentials to the
 * pull request's own code and to npm install scripts. The workflows as files: the preview job runs
 * only in its protected environment, with PREVIEW_* (read-only) secrets, and installs without
 * scripts; the production identity is only in the `production` environment of `fleet up`.
 */
const wf = (name: string) => parse(fs.readFileSync(path.join(REPO, ".github", "workflows", name), "utf8"));
const secretsOf = (job: { env?: Record<string, string> }) => Object.values(job.env ?? {}).flatMap((v) => [...String(v).matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1]!));

test("the pull-request preview runs in a protected environment with read-only secrets and no install scripts", () => {
  const preview = wf("fleet-preview.yml");
  assert.ok(preview.on.pull_request && !preview.on.pull_request_target, "pull_request, never pull_request_target");
  const job = preview.jobs.preview;
  assert.equal(job.environment, "pr-preview");
  const secrets = secretsOf(job);
  assert.ok(secrets.length > 0);
  assert.deepEqual(secrets.filter((s) => !s.startsWith("PREVIEW_")), [], "only the preview identity's secrets");
  const installs = job.steps.filter((s: { run?: string }) => /\bnpm (ci|install)\b/.test(s.run ?? ""));
  assert.ok(installs.length && installs.every((s: { run: string }) => s.run.includes("--ignore-scripts")));
  assert.deepEqual(preview.permissions, { contents: "read", "pull-requests": "write" });
});

test("the production identity is only in the production environment", () => {
  const up = wf("fleet-up.yml");
  assert.equal(up.jobs.up.environment, "production");
  assert.ok(secretsOf(up.jobs.up).includes("PULUMI_CONFIG_PASSPHRASE"));
  assert.ok(!secretsOf(wf("fleet-preview.yml").jobs.preview).includes("PULUMI_CONFIG_PASSPHRASE"));
});

/**
 * Issue 19, item 7: third-party actions were referenced by tag (`@v4`), which their owners (or
 * whoever takes over their account) can move to other code. Every `uses:` names a full commit.
 */
test("every action is pinned by a full commit, with its tag beside it", () => {
  for (const name of ["fleet-preview.yml", "fleet-up.yml"]) {
    const text = fs.readFileSync(path.join(REPO, ".github", "workflows", name), "utf8");
    const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)];
    assert.ok(uses.length >= 3, name);
    for (const [, ref, rest] of uses) {
      if (ref!.startsWith("./")) continue; // the repository's own action: the checked-out commit
      assert.match(ref!, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${name}: ${ref} is not pinned by commit`);
      assert.match(rest!, /#\s*v\d+(\.\d+)*/, `${name}: ${ref} has no tag comment`);
    }
  }
});
