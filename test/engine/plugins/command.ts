// The engine tests' `pulumi-resource-command`: command.remote.Command run for real over ssh, as the
// published provider runs it (pulumi/pulumi-command, provider/pkg/provider/remote: the command
// string goes to the remote user's shell; create on create, `update` (else create) when inputs
// change, delete on delete; a changed `triggers` replaces when there is no `update`; dials are
// retried up to connection.dialErrorLimit times (default 10), each bounded by perDialTimeout
// (default 15 s); a hostKey, when given, is verified). A delete against a host that is gone fails
// after its dials, as it does in production (pulumi-command#104), which is what `deletedWith` avoids.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as provider from "@pulumi/pulumi/provider";
import { diffByRules, plain, serve, typeOf, type Props } from "./common";

interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  hostKey?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
}

/** ssh's exit status when it could not connect (a remote command may exit with it too). */
const SSH_CONNECT_FAILED = 255;
/** What ssh says when the dial itself failed (before any command ran). */
const DIAL_ERROR =
  /Connection refused|Connection timed out|timed out during banner|No route to host|Could not resolve|Connection closed by|Connection reset|kex_exchange_identification|Permission denied|Host key verification failed|Network is unreachable/;

function ssh(conn: Connection, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-cmd-"));
  const key = path.join(dir, "key");
  fs.writeFileSync(key, (conn.privateKey ?? "").trim() + "\n", { mode: 0o600 });
  const known = path.join(dir, "known_hosts");
  const hostField = (conn.port ?? 22) === 22 ? conn.host : `[${conn.host}]:${conn.port}`;
  if (conn.hostKey) fs.writeFileSync(known, `${hostField} ${conn.hostKey.trim()}\n`);
  const args = [
    "-F",
    "/dev/null",
    "-i",
    key,
    "-p",
    String(conn.port ?? 22),
    "-o",
    "BatchMode=yes",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    `ConnectTimeout=${conn.perDialTimeout ?? 15}`,
    "-o",
    conn.hostKey ? "StrictHostKeyChecking=yes" : "StrictHostKeyChecking=no",
    "-o",
    `UserKnownHostsFile=${conn.hostKey ? known : "/dev/null"}`,
    `${conn.user ?? "root"}@${conn.host}`,
    command,
  ];
  return new Promise((resolve) => {
    const child = spawn("ssh", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => {
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? SSH_CONNECT_FAILED, stdout, stderr });
    });
  });
}

/** Runs `command` on the connection's host, dialing at most dialErrorLimit times. */
async function run(conn: Connection, command: string): Promise<{ stdout: string; stderr: string }> {
  const limit = conn.dialErrorLimit ?? 10;
  for (let dial = 1; ; dial++) {
    const r = await ssh(conn, command);
    if (r.code === 0) return r;
    // 255 is also what a remote command may exit with: only ssh's own connection errors are dials.
    if (r.code !== SSH_CONNECT_FAILED || !DIAL_ERROR.test(r.stderr))
      throw new Error(
        `Process exited with status ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`,
      );
    if (limit !== -1 && dial >= limit)
      throw new Error(`Unable to dial ${conn.host}:${conn.port ?? 22} after ${dial} attempts: ${r.stderr.trim()}`);
    await new Promise((res) => setTimeout(res, Math.min(1000 * dial, 5000)));
  }
}

const FIELDS = ["connection", "create", "update", "delete", "triggers", "environment", "stdin"];

const commandProvider: provider.Provider = {
  version: "1.2.1",
  async check(urn, _olds, news) {
    if (typeOf(urn) !== "command:remote:Command")
      throw new Error(`the test command plugin does not serve ${typeOf(urn)}`);
    return { inputs: news };
  },
  async diff(_id, _urn, olds, news) {
    // triggers replace unless there is an update command; everything else updates in place.
    return diffByRules(olds, news, FIELDS, plain(news).update ? [] : ["triggers"], ["connection", "environment"]);
  },
  async create(_urn, inputs) {
    const i: Props = plain(inputs);
    const out = i.create ? await run(i.connection, i.create) : { stdout: "", stderr: "" };
    return { id: `remote-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`, outs: { ...i, ...out } };
  },
  async update(_id, _urn, _olds, news) {
    const i: Props = plain(news);
    const cmd = i.update ?? i.create;
    const out = cmd ? await run(i.connection, cmd) : { stdout: "", stderr: "" };
    return { outs: { ...i, ...out } };
  },
  async read(id, _urn, props) {
    return { id, props };
  },
  async delete(_id, _urn, props) {
    const i: Props = plain(props);
    if (i.delete) await run(i.connection, i.delete);
  },
};

if (require.main === module) void serve(commandProvider);
