// moto's server mode (PyPI `moto[server]`, pinned in .ci/run): AWS's own service models (EC2,
// SQS, EventBridge, CloudWatch, S3, Pricing) behind the real wire protocols, so the AWS SDK v3
// clients and the Pulumi CLI's S3 backend are tested against what botocore's service definitions
// accept, not against Fleet's assumptions. One server per test file, on a free loopback port.
// CI sets FLEET_REQUIRE_MOTO=1: a missing moto_server is then a failure, never a skip.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as net from "node:net";

export const MOTO_CREDENTIALS = { accessKeyId: "AKIAMOTOTESTFLEET000", secretAccessKey: "moto-test-secret" };
/** moto's default account (moto.core.DEFAULT_ACCOUNT_ID). */
export const MOTO_ACCOUNT = "123456789012";

/** Why moto cannot run here, or false. */
export function motoSkipReason(): string | false {
  const ok = spawnSync("moto_server", ["--help"], { stdio: "ignore" }).status === 0;
  if (ok) return false;
  const why = "moto_server is not on PATH (pip install 'moto[server]')";
  if (process.env.FLEET_REQUIRE_MOTO === "1") throw new Error(`${why}; FLEET_REQUIRE_MOTO=1 requires it`);
  return why;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export class MotoServer {
  private child?: ChildProcess;
  endpoint = "";

  async start(): Promise<string> {
    const port = await freePort();
    this.child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    this.child.stderr!.on("data", (c) => (stderr = (stderr + c).slice(-4000)));
    this.endpoint = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (this.child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
      try {
        const res = await fetch(`${this.endpoint}/moto-api/data.json`);
        if (res.ok) return this.endpoint;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`moto_server did not answer on ${this.endpoint}: ${stderr}`);
  }

  /** Forget every resource (moto's own reset endpoint). */
  async reset(): Promise<void> {
    await fetch(`${this.endpoint}/moto-api/reset`, { method: "POST" });
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child!.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }

  /** SDK v3 client options pointing at this server. */
  client(region = "us-east-1") {
    return { region, endpoint: this.endpoint, credentials: MOTO_CREDENTIALS };
  }
}
