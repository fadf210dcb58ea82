import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GcpCloud } from "../doubles/gcp-cloud";
import { guestHostKeyProvider, parseHostKey } from "../../stacks/providers/guest-host-key";

/**
 * Issue 19, item 3: a GCP standby's host private key sat in its instance metadata (readable by
 * every project viewer). Now the standby makes its own and publishes the public half as a guest
 * attribute; the GuestHostKey resource reads it through Compute Engine's API (the GCP double,
 * built from compute.v1's discovery document), waiting for the boot, refusing anything that is not
 * one ed25519 public key. In process, against the double over HTTP.
 */
const cloud = new GcpCloud();
const saved = { ...process.env };
const P = `projects/${cloud.project}`;
const inputs = {
  project: cloud.project,
  zone: "europe-west1-b",
  instanceName: "standby-a",
  instanceId: "1",
  pollSeconds: 0.05,
  timeoutSeconds: 5,
};

function realPublicKey(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-hk-"));
  spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "root@standby", "-f", path.join(dir, "k")]);
  const pub = fs.readFileSync(path.join(dir, "k.pub"), "utf8");
  fs.rmSync(dir, { recursive: true });
  return pub;
}

before(async () => {
  const base = await cloud.start();
  Object.assign(process.env, {
    CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE: `${base}compute/v1/`,
    GOOGLE_OAUTH_ACCESS_TOKEN: cloud.token,
  });
  const body = {
    name: "standby-a",
    machineType: `zones/europe-west1-b/machineTypes/e2-medium`,
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: { sourceImage: "projects/debian-cloud/global/images/family/debian-12" },
      },
    ],
    networkInterfaces: [{ network: `${P}/global/networks/default` }],
    metadata: { items: [{ key: "enable-guest-attributes", value: "TRUE" }] },
  };
  const r = await fetch(`${base}compute/v1/${P}/zones/europe-west1-b/instances`, {
    method: "POST",
    headers: { authorization: `Bearer ${cloud.token}` },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.text());
});
after(async () => {
  process.env = saved;
  await cloud.stop();
});

test("create waits for the VM to publish its host key, then keeps the key the VM made", async () => {
  const pub = realPublicKey();
  setTimeout(() => cloud.setGuestAttribute("standby-a", "fleet", "host-ed25519", pub), 300);
  const { id, outs } = await guestHostKeyProvider.create(inputs);
  assert.equal(id, "standby-a/1");
  assert.equal(outs.publicKey, pub.trim().split(" ").slice(0, 2).join(" "), "type and key, no comment");
  assert.ok(cloud.calls.some((c) => c.id === "compute.instances.getGuestAttributes"));
});

test("a value that is not one ed25519 public key is refused, not pinned", async () => {
  for (const bad of [
    "ssh-rsa AAAAB3NzaC1yc2E",
    "ssh-ed25519 AAAA'; id; '",
    `${realPublicKey().trim()}\nssh-ed25519 AAAA`,
  ]) {
    cloud.setGuestAttribute("standby-a", "fleet", "host-ed25519", bad);
    await assert.rejects(
      guestHostKeyProvider.create(inputs),
      /published a host key that is not one ed25519 public key/,
    );
  }
  assert.equal(parseHostKey(undefined), undefined);
});

test("a VM that never publishes fails the create after its timeout, naming the attribute", async () => {
  await assert.rejects(
    guestHostKeyProvider.create({ ...inputs, instanceName: "standby-missing", timeoutSeconds: 0.2 }),
    /standby-missing|was not found/,
  );
});

test("a new VM (another instance id) replaces the key; nothing else does", async () => {
  const olds = { ...inputs, publicKey: "ssh-ed25519 x" };
  assert.deepEqual((await guestHostKeyProvider.diff("", olds, { ...inputs, instanceId: "2" })).replaces, [
    "instanceId",
  ]);
  assert.equal((await guestHostKeyProvider.diff("", olds, { ...inputs, pollSeconds: 9 })).changes, false);
});

// The GCP standby does not run on the engine here (see test/engine/standby-lifecycle.test.ts), so
// this runs the provider as the engine would: serialized by Pulumi's closure serializer (what a
// dynamic resource ships to its provider process), loaded from that text, reading the double.
test("the provider as Pulumi serializes it for the engine still reads the key", async () => {
  const pulumi = await import("@pulumi/pulumi");
  const serialized = await pulumi.runtime.serializeFunction(() => guestHostKeyProvider, { allowSecrets: false });
  // Written into node_modules, where the requires in the serialized text resolve; removed after.
  const file = path.join(
    path.dirname(require.resolve("@pulumi/pulumi/package.json")),
    "..",
    "..",
    `.fleet-serialized-${process.pid}.js`,
  );
  fs.writeFileSync(file, serialized.text);
  try {
    const provider = require(file)[serialized.exportName]() as typeof guestHostKeyProvider;
    const pub = realPublicKey();
    cloud.setGuestAttribute("standby-a", "fleet", "host-ed25519", pub);
    const { outs } = await provider.create(inputs);
    assert.equal(outs.publicKey, pub.trim().split(" ").slice(0, 2).join(" "));
  } finally {
    fs.rmSync(file, { force: true });
  }
});
