import { test } from "node:test";
import assert from "node:assert/strict";
import { Ec2Double } from "../doubles/ec2-api";
import { GcpComputeDouble } from "../doubles/gcp-compute";
import { sampleOffers, VastDouble } from "../doubles/vast-api";
import { runFleetAsync, tempProject } from "../helpers";

const STACK = `config:
  fleet:desired:
    burst:
      vms: [{name: fleet-burst-keep, zone: us-central1-a, machineType: e2-standard-4, spotHourUsd: 0.04, createdAt: "2026-11-22T10:00:00.000Z", expiresAt: "2026-11-22T13:00:00.000Z"}]
    standby:
      pairs: [{pairId: train, state: running, gpu: {offerId: 101, gpuName: RTX_4090, dphUsd: 0.42, geolocation: "US, CA"}, standby: {region: us-central1, machineType: e2-medium, diskGb: 100}, since: "2026-11-22T10:00:00.000Z"}]
`;

test("fleet sweep: lists this project's resources no stack knows; deletes them only with --yes (standby data only with --include-data); other projects' left alone; secrets never printed", async () => {
  const gcp = new GcpComputeDouble([
    { kind: "instances", name: "fleet-burst-keep", zone: "us-central1-a", labels: { "managed-by": "fleet", "fleet-area": "burst", "fleet-stack": "prod" } },
    { kind: "instances", name: "fleet-burst-old", zone: "us-central1-b", labels: { "managed-by": "fleet", "fleet-area": "burst", "fleet-stack": "prod" } },
    { kind: "disks", name: "pair-train-data", zone: "us-central1-b", labels: { "managed-by": "fleet", "fleet-area": "standby", "fleet-pair": "train", "fleet-stack": "prod" } },
    { kind: "disks", name: "pair-gone-data", zone: "us-central1-b", labels: { "managed-by": "fleet", "fleet-area": "standby", "fleet-pair": "gone", "fleet-stack": "prod" } },
    { kind: "instances", name: "not-ours", zone: "us-central1-a", labels: { team: "ml" } },
  ]);
  const ec2 = new Ec2Double([], []);
  ec2.instances = [
    { id: "i-0aaa", az: "us-east-1a", type: "m5.large", state: "running", tags: { "managed-by": "fleet", "fleet-area": "pool", "fleet-stack": "prod" } },
    { id: "i-0bbb", az: "us-east-1b", type: "m5.large", state: "running", tags: { team: "web" } },
  ];
  const vast = new VastDouble(sampleOffers(), "vast-sweep-secret");
  const [gcpUrl, ec2Url, vastUrl] = await Promise.all([gcp.start(), ec2.start(), vast.start()]);
  vast.instances.push({ id: 11, actual_status: "running", label: "fleet-pair-train" }, { id: 12, actual_status: "running", label: "fleet-pair-gone" }, { id: 13, actual_status: "running", label: "my-own-box" });
  const env = {
    VAST_API_KEY: "vast-sweep-secret", VAST_API_URL: vastUrl,
    GOOGLE_PROJECT: "proj-test", GOOGLE_OAUTH_ACCESS_TOKEN: "gcp-test-token", CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: gcpUrl,
    AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_EC2: ec2Url, AWS_ACCESS_KEY_ID: "AKIDTEST", AWS_SECRET_ACCESS_KEY: "aws-sweep-secret",
  };
  try {
    const dir = tempProject(STACK, "prod");
    const list = await runFleetAsync(["sweep", "--json"], { cwd: dir, env });
    assert.equal(list.code, 0, list.stderr);
    const out = JSON.parse(list.stdout);
    assert.deepEqual(out.orphans.map((o: { provider: string; name: string }) => `${o.provider}:${o.name}`).sort(), ["aws:i-0aaa", "gcp:fleet-burst-old", "gcp:pair-gone-data"]);
    // A Vast label names no project: another checkout's instance on the same account is left alone.
    assert.deepEqual(out.leftAlone.map((o: { provider: string; name: string }) => `${o.provider}:${o.name}`), ["vast:fleet-pair-gone"]);
    assert.deepEqual(out.deleted, []);
    assert.equal(gcp.items.length, 5, "listing deletes nothing");
    assert.equal(vast.instances.length, 3);
    assert.equal(ec2.instances.filter((i) => i.state === "terminated").length, 0);

    const del = await runFleetAsync(["sweep", "--yes"], { cwd: dir, env });
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /deleted 2 of 3/);
    assert.match(del.stdout, /pair-gone-data .*holds a standby's data: only with --include-data/);
    assert.deepEqual(gcp.items.map((i) => i.name).sort(), ["fleet-burst-keep", "not-ours", "pair-gone-data", "pair-train-data"]);
    assert.deepEqual(vast.instances.map((i) => i.id), [11, 12, 13]);
    assert.deepEqual(ec2.instances.map((i) => [i.id, i.state]), [["i-0aaa", "terminated"], ["i-0bbb", "running"]]);
    const data = await runFleetAsync(["sweep", "--yes", "--include-data"], { cwd: dir, env });
    assert.equal(data.code, 0, data.stderr);
    assert.deepEqual(gcp.items.map((i) => i.name).sort(), ["fleet-burst-keep", "not-ours", "pair-train-data"]);
    for (const secret of ["vast-sweep-secret", "gcp-test-token", "aws-sweep-secret"]) assert.ok(!(list.stdout + list.stderr + del.stdout + del.stderr).includes(secret), secret);

    // Without credentials nothing is swept, and it says which are missing.
    const none = await runFleetAsync(["sweep"], { cwd: dir, env: {} });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /not swept: vast \(VAST_API_KEY is not set\)\nnot swept: gcp \(no credentials or project/);
    // A listing that fails is an error (exit 1), not a clean bill.
    const bad = await runFleetAsync(["sweep"], { cwd: dir, env: { ...env, GOOGLE_OAUTH_ACCESS_TOKEN: "expired" } });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /error: gcp: could not list \(GCP GET projects\/proj-test\/aggregated\/instances: 401 Request had invalid authentication credentials/);
  } finally {
    await Promise.all([gcp.stop(), ec2.stop(), vast.stop()]);
  }
});
