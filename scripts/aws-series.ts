// Builds a forecast-eval series (timestamp,pool,price) from the recorded AWS spot file:
//   npx tsx scripts/aws-series.ts ../shared/data/aws-spot-pools-2022-05-31.tsv.gz series.csv
import * as fs from "node:fs";
import { awsSeries, parseAwsSpotTsv } from "../reconciler/signals/prices-aws-tsv";
import { readTextFile } from "../reconciler/signals/read-file";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: tsx scripts/aws-series.ts AWS_FILE.tsv[.gz] OUT.csv");
  process.exit(2);
}
const series = awsSeries(parseAwsSpotTsv(readTextFile(input, "AWS_FILE", "pass the recorded AWS spot file"), input));
const lines = ["timestamp,pool,price"];
for (const [pool, points] of series) for (const p of points) lines.push(`${new Date(p.t).toISOString()},${pool},${p.price}`);
fs.writeFileSync(output, lines.join("\n") + "\n");
console.log(`${series.size} pools, ${lines.length - 1} points -> ${output}`);
