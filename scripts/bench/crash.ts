import { crashLoop } from "../../test/fixtures/crash-cycle";
import type { Figure } from "./measure";

/** The crash harness (issue 18): kill -9 of a child running cycles at random points, then one cycle. */
export async function benchCrash(): Promise<Figure[]> {
  const f = await crashLoop(Number(process.env.FLEET_BENCH_KILLS ?? 50));
  return [
    { name: "crash.kills", value: f.kills, unit: "kills" },
    { name: "crash.kills_mid_update", value: f.midUpdate, unit: "kills" },
    { name: "crash.journal_out_of_step", value: f.outOfStep, unit: "kills" },
  ];
}
