import { raceLoop } from "../../test/fixtures/race";
import type { Figure } from "./measure";

/** The race harness (issue 18): two processes applying to one stack at once, round after round. */
export async function benchRace(): Promise<Figure[]> {
  const f = await raceLoop(Number(process.env.FLEET_BENCH_RACES ?? 50));
  return [
    { name: "race.races", value: f.races, unit: "rounds" },
    { name: "race.double_applies", value: f.doubleApplies, unit: "rounds" },
    { name: "race.busy", value: f.busy, unit: "commands" },
    { name: "race.stale_refused", value: f.stale, unit: "commands" },
    { name: "race.journal_out_of_step", value: f.outOfStep, unit: "rounds" },
  ];
}
