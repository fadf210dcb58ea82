import { after, before, mock, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GcpCloud } from "../doubles/gcp-cloud";
import { GceMetadataServer } from "../doubles/gce-metadata";
import { gcpAuthFromEnv, gcpCall } from "../../reconciler/gcp/rest";

/**
 * Fleet's Google credentials (reconciler/gcp/auth.ts) against a GCP double that judges them as
 * Google does (test/doubles/gcp-credentials.ts): a service-account key's self-signed JWT verified
 * with the key Google holds, metadata-server tokens accepted only until they expire.
 */
const cloud = new GcpCloud("fleet-auth-test");
let base = "";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gcp-auth-"));
// No gcloud ADC file and no metadata server unless a test names one.
const bare = { HOME: dir, CLOUDSDK_CONFIG: path.join(dir, "gcloud") };

before(async () => {
  base = await cloud.start();
});
after(() => cloud.stop());

function serviceAccountKey(email: string, keyId: string, projectId = "fleet-auth-test") {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const json = {
    type: "service_account",
    project_id: projectId,
    private_key_id: keyId,
    private_key: pem,
    client_email: email,
    client_id: "1234567890",
    token_uri: "https://oauth2.googleapis.com/token",
  };
  const file = path.join(dir, `${keyId}.json`);
  fs.writeFileSync(file, JSON.stringify(json), { mode: 0o600 });
  return { file, pem, json };
}

const listZones = (auth: NonNullable<ReturnType<typeof gcpAuthFromEnv>>) =>
  gcpCall(`${base}compute/v1/`, auth, "GET", `projects/${auth.project}/zones/us-central1-a`);

test("a service-account key (GOOGLE_APPLICATION_CREDENTIALS): project from the key, a self-signed JWT Google verifies", async () => {
  const email = "fleet-ci@fleet-auth-test.iam.gserviceaccount.com";
  const key = serviceAccountKey(email, "k1");
  const auth = gcpAuthFromEnv({ ...bare, GOOGLE_APPLICATION_CREDENTIALS: key.file });
  assert.ok(auth, "credentials from the key file alone (before: null without GOOGLE_OAUTH_ACCESS_TOKEN)");
  assert.equal(auth.project, "fleet-auth-test");
  // Google does not know this key yet: refused as Google refuses.
  await assert.rejects(listZones(auth), /401 Request had invalid authentication credentials/);
  cloud.credentials.trustServiceAccountKey(email, "k1", key.pem);
  const zone = await listZones(auth);
  assert.equal(zone.name, "us-central1-a");
  assert.deepEqual(cloud.credentials.seen.at(-1), { kind: "jwt", subject: email });
  // The stack's gcp:project wins over the key's; GOOGLE_CREDENTIALS (the provider's variable) takes the JSON itself.
  assert.equal(
    gcpAuthFromEnv({ ...bare, GOOGLE_CREDENTIALS: JSON.stringify(key.json) }, "other-project")!.project,
    "other-project",
  );
});

test("a credentials JSON that is not one is refused naming the variable, never echoing it", () => {
  assert.throws(
    () => gcpAuthFromEnv({ ...bare, GOOGLE_CREDENTIALS: '{"secret":"hunter2"}' }),
    (e: Error) =>
      /GOOGLE_CREDENTIALS is not a Google credentials JSON/.test(e.message) && !e.message.includes("hunter2"),
  );
});

test("the metadata server: its token is used, and refreshed before Google stops accepting it", async () => {
  const metadata = new GceMetadataServer(cloud.credentials, "fleet-auth-test");
  const host = await metadata.start();
  const saved = process.env.GCE_METADATA_HOST;
  process.env.GCE_METADATA_HOST = host; // gcp-metadata reads it from the process environment
  mock.timers.enable({ apis: ["Date"], now: Date.now() });
  try {
    const auth = gcpAuthFromEnv({ ...bare, GCE_METADATA_HOST: host }, "fleet-auth-test");
    assert.ok(auth);
    await listZones(auth);
    await listZones(auth);
    assert.equal(metadata.tokenRequests, 1, "a valid token is reused");
    // An hour later the first token has expired at Google; the client fetched a new one in time.
    mock.timers.tick(3600 * 1000);
    await listZones(auth);
    assert.equal(metadata.tokenRequests, 2, "refreshed");
    assert.equal(cloud.credentials.refusal(undefined), "no bearer credential");
  } finally {
    mock.timers.reset();
    if (saved === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = saved;
    await metadata.stop();
  }
});

test("a fixed GOOGLE_OAUTH_ACCESS_TOKEN is used as given; no credentials at all is null", async () => {
  const auth = gcpAuthFromEnv({ ...bare, GOOGLE_OAUTH_ACCESS_TOKEN: cloud.token }, "fleet-auth-test");
  assert.equal((await listZones(auth!)).name, "us-central1-a");
  assert.equal(gcpAuthFromEnv(bare, "fleet-auth-test"), null);
});
