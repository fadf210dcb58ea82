/**
 * Typed errors and the documented exit codes. One top-level handler (scripts/fleet.ts) maps them.
 *   0 ok, 1 failure, 2 bad input or config, 3 drift found, 4 blocked by policy or budget,
 *   5 busy (another fleet process is changing the stack).
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, drift: 3, blocked: 4, busy: 5 } as const;

export interface Problem {
  /** Where: a file and a field path, e.g. `signals.json: prices[2].spotHourUsd`. */
  field: string;
  message: string;
}

export class FleetError extends Error {
  readonly exitCode: number = EXIT.failure;
}

/** Bad configuration or input: lists every problem; nothing was written. */
export class InputError extends FleetError {
  override readonly exitCode = EXIT.badInput;
  constructor(
    readonly what: string,
    readonly problems: Problem[],
  ) {
    super(`${what}: ${problems.length} problem${problems.length === 1 ? "" : "s"}\n` + problems.map((p) => `  - ${p.field}: ${p.message}`).join("\n"));
  }
}

/** An action was refused by budget, limits or policy. */
export class BlockedError extends FleetError {
  override readonly exitCode = EXIT.blocked;
}

/** The Pulumi CLI is needed and missing. */
export class EngineMissingError extends FleetError {
  override readonly exitCode = EXIT.failure;
  constructor(what: string) {
    super(`${what} needs the Pulumi CLI, which is not on PATH. Install it (https://www.pulumi.com/docs/install/, e.g. \`curl -fsSL https://get.pulumi.com | sh\`) and run again.`);
  }
}
