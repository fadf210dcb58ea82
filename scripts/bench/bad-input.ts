import { runBadInputs } from "../../test/fixtures/bad-inputs";
import type { Figure } from "./measure";

/** The bad-input corpus (issue 18) through the real CLI: how many, exit 2, stack traces, journals written. */
export async function benchBadInput(): Promise<Figure[]> {
  const outcomes = await runBadInputs();
  const count = (p: (o: (typeof outcomes)[number]) => boolean) => outcomes.filter(p).length;
  return [
    { name: "badinput.tried", value: outcomes.length, unit: "inputs" },
    { name: "badinput.exit2", value: count((o) => o.exit2), unit: "inputs" },
    { name: "badinput.stack_traces", value: count((o) => o.trace), unit: "inputs" },
    { name: "badinput.unnamed", value: count((o) => !o.named), unit: "inputs" },
    { name: "badinput.journal_written", value: count((o) => o.journalWritten), unit: "inputs" },
  ];
}
