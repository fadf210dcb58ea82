import pino, { type Logger } from "pino";

/** Structured JSON logs on stderr; anything that looks like a secret is redacted. */
export function makeLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return pino(
    {
      level: env.FLEET_LOG_LEVEL ?? "info",
      base: { app: "fleet" },
      redact: { paths: ["*.apiKey", "*.token", "*.password", "*.passphrase", "*.secret", "*.privateKey", "*.authorization"], censor: "[redacted]" },
    },
    pino.destination(2),
  );
}
