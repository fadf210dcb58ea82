import { test } from "node:test";
import assert from "node:assert/strict";
import { BAD_INPUTS, runBadInputs } from "../fixtures/bad-inputs";

// The bad-input corpus (test/fixtures/bad-inputs.ts) through the real CLI: exit 2, the field or
// file named, no stack trace, no journal written. Run in process here (the CLI's own `main`);
// `npm run bench -- badinput` spawns the real command for each and prints the figures.
test(`bad-input corpus (${BAD_INPUTS.length} inputs): each exits 2 naming what is wrong, with no stack trace and no journal`, async () => {
  const outcomes = await runBadInputs(BAD_INPUTS, { inProcess: true });
  const wrong = outcomes
    .filter((o) => !o.exit2 || o.trace || !o.named || o.journalWritten)
    .map((o) => `${o.input.name}: exit ${o.result.code}${o.trace ? ", stack trace" : ""}${o.named ? "" : `, does not name ${o.input.names}`}${o.journalWritten ? ", journal written" : ""}\n${(o.result.stdout + o.result.stderr).slice(0, 400)}`);
  assert.deepEqual(wrong, []);
});
