import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { engineRun } from "../../reconciler/apply/automation";
import { EngineEventReader, failureCause, resourceName } from "../../reconciler/apply/events";
import { EngineRunError, PolicyBlockedError } from "../../reconciler/apply/types";
import { EXIT } from "../../reconciler/errors";
import { planCommand } from "../../scripts/commands/plan";
import { REPO, tempProject } from "../helpers";
import { ReplayApplier, recordedEvents, recordedFailure, replay } from "../doubles/engine-events";

/**
 * Every replay below is a stream the Pulumi engine recorded itself, from
 * ../shared/data/pulumi-engine-events (test/doubles/engine-events.ts); none is written by hand.
 */
function read(kind: "preview" | "update" | "refresh", recording: string) {
  const r = new EngineEventReader(kind);
  replay(recording, r.onEvent);
  return r.result();
}
const steps = (run: { changes: { op: string; urn: string }[] }) => run.changes.map((c) => `${c.op} ${resourceName(c.urn)}`).sort();

describe("refresh: drift is read from the results, not the pre-events (all say op: refresh)", () => {
  const table: [string, string[]][] = [
    ["lifecycle/TestViewsRefreshSame/-0-1-preview", []],
    ["lifecycle/TestRefreshBasics/1-0-0-preview", []],
    ["lifecycle/TestRefreshBasics/1-0-0", []],
    ["lifecycle/TestViewsRefreshDelete/-0-1-preview", ["delete resA-child"]],
    ["lifecycle/TestRefreshBasics/0-0-0-preview", ["update resA"]],
    ["lifecycle/TestRefreshBasics/all-0-0", ["delete resC", "update resA"]],
    // here the engine leaves op "refresh" on the result too: read from old/new (new null = gone)
    ["lifecycle/TestRefreshUpdateWithDeletedResource/-0-0-preview", ["delete resA"]],
  ];
  for (const [recording, want] of table) {
    test(`${recording} -> ${want.length ? want.join(", ") : "in sync"}`, () => {
      const events = recordedEvents(recording);
      assert.ok(events.some((e) => e.resourcePreEvent?.metadata.op === "refresh"), "a refresh recording");
      assert.deepEqual(steps(read("refresh", recording)), want);
    });
  }
});

describe("preview and update: the steps of real pulumi up streams", () => {
  test("an EKS stack with one security group updated: exactly that step", () => {
    assert.deepEqual(steps(read("update", "display/up-4.json")), ["update eks-sg"]);
  });
  test("an unchanged stack: no steps", () => {
    assert.deepEqual(steps(read("update", "display/up-2.json")), []);
  });
  test("refresh steps of an update with refresh are not its changes", () => {
    const run = read("preview", "lifecycle/TestRefreshBeforeUpdate/-0-4-preview");
    assert.ok(run.changes.every((c) => c.op !== "refresh"));
  });
});

describe("policy: mandatory violations fail the run and block it; advisory ones do not", () => {
  test("one mandatory violation: listed with its policy, resource and message (colour codes removed)", () => {
    const run = read("preview", "lifecycle/TestSimpleAnalyzeResourceFailure");
    assert.equal(run.summary?.result, "failed");
    assert.deepEqual(run.policy, [{ policy: "always-fails", level: "mandatory", message: "a policy failed", urn: "urn:pulumi:test::test::pkgA:m:typA::resA" }]);
  });
  test("several severities: each is kept with its level", () => {
    const run = read("preview", "lifecycle/TestSimpleAnalyzeResourceMultipleViolations");
    const levels = run.policy.map((p) => p.level);
    assert.ok(levels.includes("mandatory") && levels.includes("advisory"), levels.join(","));
    assert.equal(run.policy.length, recordedEvents("lifecycle/TestSimpleAnalyzeResourceMultipleViolations").filter((e) => e.policyEvent).length);
  });
  test("the failed preview becomes PolicyBlockedError (exit 4) naming each violation", async () => {
    const err = await recordedFailure("preview", "lifecycle/TestSimpleAnalyzeResourceFailure");
    assert.ok(err instanceof PolicyBlockedError);
    assert.equal(err.exitCode, EXIT.blocked);
    assert.match(err.message, /always-fails on resA: a policy failed/);
  });
});

describe("failures reach the user as the engine's cause", () => {
  test("a failed refresh read names the resource and the provider's message", async () => {
    const err = await recordedFailure("refresh", "lifecycle/TestRefreshV2FailedRead/1");
    assert.ok(err instanceof EngineRunError);
    assert.equal(err.exitCode, EXIT.failure);
    assert.deepEqual(err.run.failed.map((f) => resourceName(f.urn)), ["resA"]);
    assert.ok(err.run.errors.length > 0);
    assert.doesNotMatch(err.message, /<\{%|at .*\.js:\d+/); // no colour codes, no stack trace
  });
  test("an interrupted replacement: every error diagnostic, in order, once", () => {
    const run = read("update", "lifecycle/TestInteruptedPendingReplace/1");
    const cause = failureCause(run, "fallback");
    assert.notEqual(cause, "fallback");
    assert.equal(new Set(cause.split("\n")).size, cause.split("\n").length);
  });
  test("no events at all: the CLI's own error line", async () => {
    const err = await engineRun("preview", "the preview", async () => {
      throw new Error("code: 255\n stderr: error: passphrase must be set");
    }).catch((e: unknown) => e);
    assert.ok(err instanceof EngineRunError);
    assert.match(err.message, /code: 255/);
  });
});

describe("fleet plan through its engine seam, fed recorded streams", () => {
  const project = () => {
    const dir = tempProject(`config:\n  fleet:policy:\n    signals:\n      pricesFile: ${path.join(REPO, "data", "gcp-spot-sample.csv.gz")}\n`);
    return dir;
  };
  async function plan(recording: string): Promise<{ code: number; out: string }> {
    const dir = project();
    const cwd = process.cwd();
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    let out = "";
    process.chdir(dir);
    process.stdout.write = ((c: string) => ((out += c), true)) as typeof process.stdout.write;
    process.stderr.write = ((c: string) => ((out += c), true)) as typeof process.stderr.write;
    try {
      const code = await planCommand({ stack: "test", applied: true, markdown: path.join(dir, "plan.md") }, { unavailable: () => null, open: async () => new ReplayApplier(recording) });
      return { code, out: out + require("node:fs").readFileSync(path.join(dir, "plan.md"), "utf8") };
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
      process.chdir(cwd);
    }
  }
  test("a mandatory violation: exit 4, each violation listed in the output and the review Markdown", async () => {
    const r = await plan("lifecycle/TestSimpleAnalyzeResourceFailure");
    assert.equal(r.code, EXIT.blocked, r.out);
    assert.match(r.out, /blocked by 1 mandatory policy violation/);
    assert.match(r.out, /\*\*always-fails\*\* \(mandatory\) on `resA`: a policy failed/);
  });
  test("a clean stream: exit 0", async () => {
    const r = await plan("display/up-2.json");
    assert.equal(r.code, EXIT.ok, r.out);
    assert.doesNotMatch(r.out, /Not run: the Pulumi CLI was not on PATH/);
  });
});
