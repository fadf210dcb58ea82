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

/** `fleet serve`: the HTTP API and the web page, on localhost unless told otherwise. */
export async function serveCommand(opts: { stack: string; port: string; host: string; tokenFile?: string }): Promise<number> {
  const port = opts.port === "0" ? 0 : positiveInt(opts.port, "--port", "fleet serve")!;
  if (port > 65535) throw new InputError("fleet serve", [{ field: "--port", message: `${port} is not a TCP port (1-65535)` }]);
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
  });
  const address = await app.listen({ port, host: opts.host });
  if (created) process.stderr.write(`fleet: API token (shown once; kept in ${tokenFile}, mode 0600):\n${token}\n`);
  else process.stderr.write(`fleet: API token in ${tokenFile}\n`);
  if (!["127.0.0.1", "::1", "localhost"].includes(opts.host)) process.stderr.write(`fleet: listening on ${opts.host}: reads are open to anyone who can reach it; put it behind TLS\n`);
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
