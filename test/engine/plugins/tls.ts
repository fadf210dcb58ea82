// The engine tests' `pulumi-resource-tls`: tls.PrivateKey made with node:crypto and encoded as the
// published provider (hashicorp/terraform-provider-tls, internal/provider/resource_private_key.go
// and common_key.go) encodes it: PKCS#8 PEM for ED25519's private_key_pem and _pkcs8, the OpenSSH
// private key format (golang.org/x/crypto/ssh MarshalPrivateKey), "ssh-ed25519 <base64>\n" public
// key, PKIX PEM public key, MD5 and SHA-256 fingerprints, and the SHA-1 of the public key as the id.
// algorithm, rsa_bits and ecdsa_curve are ForceNew; nothing updates in place.
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import type * as provider from "@pulumi/pulumi/provider";
import { diffByRules, plain, serve, typeOf } from "./common";

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string) => {
  const buf = typeof b === "string" ? Buffer.from(b) : b;
  return Buffer.concat([u32(buf.length), buf]);
};

/** The OpenSSH wire blob of an ed25519 public key. */
function sshPublicBlob(pub: Buffer): Buffer {
  return Buffer.concat([str("ssh-ed25519"), str(pub)]);
}

/** PROTOCOL.key: "openssh-key-v1", no cipher, one key, check ints, padding 1, 2, 3... to 8. */
function opensshPrivate(pub: Buffer, seed: Buffer): string {
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, str("ssh-ed25519"), str(pub), str(Buffer.concat([seed, pub])), str("")]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    str("none"),
    str("none"),
    str(""),
    u32(1),
    str(sshPublicBlob(pub)),
    str(priv),
  ]);
  const lines = body
    .toString("base64")
    .match(/.{1,70}/g)!
    .join("\n");
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

export function ed25519(): Record<string, string> {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const pub = Buffer.from(jwk.x!, "base64url");
  const seed = Buffer.from(jwk.d!, "base64url");
  const blob = sshPublicBlob(pub);
  const pkcs8 = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  const md5 = createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
  return {
    privateKeyPem: pkcs8,
    privateKeyPemPkcs8: pkcs8,
    privateKeyOpenssh: opensshPrivate(pub, seed),
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    publicKeyOpenssh: `ssh-ed25519 ${blob.toString("base64")}\n`,
    publicKeyFingerprintMd5: md5,
    publicKeyFingerprintSha256: `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`,
  };
}

const tlsProvider: provider.Provider = {
  version: "5.6.1",
  async check(urn, _olds, news) {
    if (typeOf(urn) !== "tls:index/privateKey:PrivateKey")
      throw new Error(`the test tls plugin does not serve ${typeOf(urn)}`);
    if (news.algorithm !== "ED25519")
      return {
        inputs: news,
        failures: [
          { property: "algorithm", reason: "the test tls plugin makes ED25519 keys only (what Fleet declares)" },
        ],
      };
    return { inputs: news };
  },
  async diff(_id, _urn, olds, news) {
    return diffByRules(olds, news, ["algorithm", "rsaBits", "ecdsaCurve"], ["algorithm", "rsaBits", "ecdsaCurve"]);
  },
  async create(_urn, inputs) {
    const outs = { ...plain(inputs), ...ed25519() };
    return { id: createHash("sha1").update(outs.publicKeyPem).digest("hex"), outs };
  },
  async read(id, _urn, props) {
    return { id, props };
  },
};

if (require.main === module) void serve(tlsProvider);
