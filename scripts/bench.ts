// `npm run bench`: every benchmark of the project, one line per figure: `name: value unit`.
// A benchmark that cannot run here (e.g. no libvirtd) prints `name: skipped (why)`.
import { benchBurstDecide } from "./bench/burst";
import { benchHpc } from "./bench/hpc";
import { benchCycleNoDrift } from "./bench/cycle";
import { benchCycleEngine } from "./bench/cycle-engine";
import { benchPoolBacktest, benchPoolDecide } from "./bench/pool";
import { benchCrash } from "./bench/crash";
import { benchBadInput } from "./bench/bad-input";
import { benchRace } from "./bench/race";
import type { Figure } from "./bench/measure";

type Bench = { name: string; run: () => Promise<Figure[]> };
const BENCHES: Bench[] = [
  { name: "burst.decide", run: benchBurstDecide },
  { name: "cycle.nodrift", run: benchCycleNoDrift },
  { name: "cycle.engine", run: benchCycleEngine },
  { name: "pool.decide10k", run: benchPoolDecide },
  { name: "pool.backtest", run: benchPoolBacktest },
  { name: "hpc", run: benchHpc },
  { name: "crash", run: benchCrash },
  { name: "badinput", run: benchBadInput },
  { name: "race", run: benchRace },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  let failed = false;
  for (const b of BENCHES.filter((x) => only.length === 0 || only.some((o) => x.name.startsWith(o)))) {
    try {
      for (const f of await b.run()) console.log(`${f.name}: ${Number.isInteger(f.value) ? f.value : f.value.toFixed(3)} ${f.unit}`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (message.startsWith("skipped:")) console.log(`${b.name}: skipped (${message.slice(9)})`);
      else {
        failed = true;
        console.log(`${b.name}: failed (${message})`);
      }
    }
  }
  process.exitCode = failed ? 1 : 0;
}

void main();
