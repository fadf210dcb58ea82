import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Journal } from "../../reconciler/journal";
import { runCycle } from "../../reconciler/loop";
import { FileApplier } from "../doubles/file-applier";
import { crashDeps } from "../fixtures/crash-cycle";
import { REPO } from "../helpers";

/**
 * Issue 18: "intent before effect". A child runs reconcile cycles (adding and removing burst VMs)
 * and is killed with SIGKILL at a random point, 50 times; after each kill the next cycle runs here,
 * and the journal's open lifetimes must name exactly the VMs of the applied fleet: no running VM
 * uncounted, none counted that does not run. The applied fleet is a file written once per update,
 * as the backend's stack output is.
 */
test("kill -9 at random points, 50 times: after the next cycle the journal and the applied fleet agree", { timeout: 300_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-crash-"));
  const journalPath = path.join(dir, "journal.db");
  const appliedPath = path.join(dir, "applied.json");
  let outOfStep = 0;
  let killedMidUpdate = 0;
  for (let i = 0; i < 50; i++) {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO, "test", "fixtures", "crash-cycle.ts"), journalPath, appliedPath], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((r) => child.stdout!.once("data", () => r()));
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    const journal = Journal.open(journalPath);
    try {
      const count = (sql: string) => (journal.db.prepare(sql).get() as { n: number }).n;
      const intents = count("SELECT count(*) AS n FROM events WHERE kind = 'apply-intent'");
      if (intents > count("SELECT count(*) AS n FROM applies") + killedMidUpdate) killedMidUpdate++;
      const applier = new FileApplier(appliedPath);
      await applier.appliedDesired();
      await runCycle(crashDeps(journal, applier, () => i % 2 === 0), { mode: "auto", dryRun: false });
      const applied = (await applier.appliedDesired()).burst.vms.map((v) => v.name).sort();
      const open = journal.openLifetimes("s", "burst").map((l) => l.name).sort();
      if (JSON.stringify(applied) !== JSON.stringify(open)) {
        outOfStep++;
        console.error(`kill ${i}: applied ${applied.join(",")} / journal ${open.join(",")}`);
      }
    } finally {
      journal.close();
    }
  }
  console.error(`crash test: 50 kills, ${killedMidUpdate} with an update's intent journalled and not finished, ${outOfStep} out of step`);
  assert.equal(outOfStep, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});
