import { describe, test as nodeTest, before, after } from "node:test";
import assert from "node:assert/strict";
import { cloudStack, type CloudStack } from "./cloud";
import { engineSkipReason, stackState } from "./harness";
import { MotoServer, MOTO_CREDENTIALS, motoSkipReason } from "../doubles/moto";

/**
 * The state in an S3 backend (PULUMI_BACKEND_URL=s3://…, as a team shares it) with the real Pulumi
 * CLI, against moto's S3: `fleet` creates the stack there, applies a burst VM, reads drift back
 * from it, and leaves no lock object behind; teardown empties the stack. The GCP side is the
 * discovery-checked double of the other engine tests.
 */
const skip = engineSkipReason() || motoSkipReason();
const test = (name: string, fn: () => Promise<void>) => nodeTest(name, { skip }, fn);

describe("the S3 state backend with the real CLI (moto's S3)", { timeout: 600_000 }, () => {
  let c: CloudStack;
  const moto = new MotoServer();
  const bucket = `fleet-state-${process.pid}`;
  /** The bucket's keys (ListObjectsV2; moto's S3 accepts unsigned requests). */
  const keys = async (): Promise<string[]> => {
    const xml = await (await fetch(`${moto.endpoint}/${bucket}?list-type=2`)).text();
    return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
  };

  before(async () => {
    if (skip) return;
    await moto.start();
    const made = await fetch(`${moto.endpoint}/${bucket}`, { method: "PUT" });
    assert.equal(made.status, 200);
    c = await cloudStack("s3");
    // gocloud.dev's s3blob URL (the CLI's blob backend): endpoint, path-style addressing, region.
    c.env.PULUMI_BACKEND_URL = `s3://${bucket}?endpoint=${encodeURIComponent(moto.endpoint)}&use_path_style=true&region=us-east-1`;
    c.env.AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    c.env.AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    c.env.AWS_REGION = "us-east-1";
    c.writeStack({ owner: "fleet", burst: { enabled: true, maxConcurrent: 1, dailyBudgetUsd: 5, maxLifetimeHours: 3, maxSpotHourUsd: 0.25, minVcpu: 4, minRamGb: 16 } });
  });
  after(async () => {
    if (skip) return;
    await c.cleanup();
    await moto.stop();
  });

  test("burst create stores the stack in the bucket; drift reads it back in sync; no lock is left; terminate empties it", async () => {
    await c.run(["burst", "create", "--count", "1", "--reason", "s3 backend"]);
    const stored = await keys();
    const stateKey = stored.find((k) => k.startsWith(".pulumi/stacks/") && k.endsWith(`/${c.stack}.json`));
    assert.ok(stateKey, `the stack's state is in the bucket: ${stored.join(", ")}`);
    assert.deepEqual(stored.filter((k) => k.startsWith(".pulumi/locks/")), [], "the update's lock was released");
    const drift = await c.run(["drift"], 0);
    assert.match(drift.stdout, /in-sync/);
    // The VM's state, read back from the bucket by the CLI (objects there are private to the account).
    assert.ok(stackState(c.stack, c.env).resources.some((r) => r.type === "gcp:compute/instance:Instance"));
    await c.run(["burst", "terminate", "--all", "--reason", "s3 backend"]);
    assert.deepEqual(c.gcp.instances(), []);
    assert.ok(!stackState(c.stack, c.env).resources.some((r) => r.type === "gcp:compute/instance:Instance"));
    assert.deepEqual((await keys()).filter((k) => k.startsWith(".pulumi/locks/")), []);
  });
});
