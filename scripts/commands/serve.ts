import * as fs from "node:fs";
import * as path from "node:path";
import { liveSources, stackContext } from "../../reconciler/context";
import { resolveFromRoot } from "../../reconciler/config/load";
import { EXIT, InputError } from "../../reconciler/errors";
import { readClusterStatus } from "../../reconciler/hpc/status";
import { makeLogger } from "../../reconciler/log";
import { ReconcilerMetrics } from "../../reconciler/metrics";
import { buildApp } from "../../reconciler/serve/app";
import { ensureToken } from "../../reconciler/serve/token";
import { vastFromEnv } from "../../reconciler/standby/sources";
import { liveStaleCheck, openApplier, openJournal } from "./engine";
import { positiveInt } from "./gpu";

export const WEB_DIR = path.resolve(__dirname, "..", "..", "web");

const LOOPBACK = ["127.0.0.1", "::1", "localhost"];

/**
 * A non-loopback bind needs TLS: the bearer token must not cross a network in clear. Both files or
 * neither; read before anything starts.
 */
function readTls(opts: { host: string; tlsCert?: string; tlsKey?: string }): { cert: Buffer; key: Buffer } | undefined {
  const problems = [];
  if (!!opts.tlsCert !== !!opts.tlsKey) problems.push({ field: opts.tlsCert ? "--tls-key" : "--tls-cert", message: "give both --tls-cert and --tls-key, or neither" });
  if (!LOOPBACK.includes(opts.host) && !(opts.tlsCert && opts.tlsKey)) {
    problems.push({ field: "--host", message: `${opts.host} is not a loopback address: serving it needs TLS (--tls-cert and --tls-key), or keep 127.0.0.1 and put a TLS proxy in front` });
  }
  if (problems.length) throw new InputError("fleet serve", problems);
  if (!opts.tlsCert || !opts.tlsKey) return undefined;
  const read = (file: string, field: string) => {
    try {
      return fs.readFileSync(file);
    } catch (e) {
      throw new InputError("fleet serve", [{ field, message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
    }
  };
  return { cert: read(opts.tlsCert, "--tls-cert"), key: read(opts.tlsKey, "--tls-key") };
}

/** `fleet serve`: the HTTP API and the web page, on localhost unless told otherwise (TLS then). */
export async function serveCommand(opts: { stack: string; port: string; host: string; tokenFile?: string; tlsCert?: string; tlsKey?: string }): Promise<number> {
  const port = opts.port === "0" ? 0 : positiveInt(opts.port, "--port", "fleet serve")!;
  if (port > 65535) throw new InputError("fleet serve", [{ field: "--port", message: `${port} is not a TCP port (1-65535)` }]);
  const https = readTls(opts);
  const cfg = stackContext(opts.stack);
  const tokenFile = resolveFromRoot(cfg.root, opts.tokenFile ?? ".fleet/api-token");
  const { token, created } = ensureToken(tokenFile);
  const logger = makeLogger();
  const journal = openJournal(cfg);
  const now = () => Date.now();
  const { app, jobs } = buildApp({
    config: () => stackContext(opts.stack),
    journal,
    applier: () => openApplier(cfg, "approving a plan or changing GPUs"),
    vast: () => vastFromEnv(),
    prices: liveSources(cfg, journal, now).prices,
    hpcStatus: readClusterStatus,
    token,
    now,
    logger,
    metrics: new ReconcilerMetrics(),
    webDir: WEB_DIR,
    stale: liveStaleCheck(cfg, journal),
    boundHost: opts.host,
    ...(https ? { https } : {}),
  });
  const address = await app.listen({ port, host: opts.host });
  // The token stays in its file: service logs keep stderr, so it is never printed.
  process.stderr.write(`fleet: API token ${created ? "written to" : "in"} ${tokenFile} (mode 0600): send it as Authorization: Bearer <token>\n`);
  process.stderr.write(`fleet: serving stack '${cfg.stack}' on ${address}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  process.stderr.write(`fleet: stopping; waiting for ${jobs.running().length} running job(s)\n`);
  await Promise.all(jobs.running().map((j) => jobs.settled(j.id)));
  await app.close();
  journal.close();
  return EXIT.ok;
}
