import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { Journal } from "../../reconciler/journal";
import { MIGRATIONS } from "../../reconciler/journal/migrations";
import { JournalBudgetSource, JournalFleetReader } from "../../reconciler/signals/journal-sources";
import { spendByDay } from "../../reconciler/costs";
import { EMPTY_DESIRED } from "../../reconciler/model";
import { REPO } from "../helpers";

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-journal-")), "j.db");

test("journal: migrates to the latest version in WAL mode, and reopening is a no-op", () => {
  const file = tmp();
  const j = Journal.open(file);
  assert.equal(j.schemaVersion, MIGRATIONS.length);
  assert.equal(j.db.pragma("journal_mode", { simple: true }), "wal");
  j.close();
  const again = Journal.open(file);
  assert.equal(again.schemaVersion, MIGRATIONS.length);
  again.close();
});

test("journal: refuses a journal from a newer fleet", () => {
  const file = tmp();
  const db = new Database(file);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => Journal.open(file), /newer than this fleet/);
});

test("journal: plan and decisions are written together", () => {
  const j = Journal.open(tmp());
  const id = j.recordPlan({ at: "2026-11-22T12:00:00Z", stack: "s", source: "live", desired: EMPTY_DESIRED, decisions: [{ area: "burst", kind: "scale", reason: "r", from: 0, to: 1 }], costs: {}, signalsDigest: "d" }, "2026-11-22T12:00:01Z");
  assert.equal(j.lastPlan("s")!.id, id);
  assert.deepEqual(j.decisions("s").map((d) => [d.kind, d.from, d.to]), [["scale", 0, 1]]);
  j.close();
});

test("journal: budget and fleet come from recorded VM lifetimes (UTC day)", async () => {
  const j = Journal.open(tmp());
  const vm = { stack: "s", area: "burst" as const, provider: "gcp", zone: "us-east1-b", machineType: "e2-standard-4", hourUsd: 0.5 };
  j.startLifetime({ ...vm, name: "yesterday-to-today", startedAt: "2026-11-21T22:00:00.000Z" }); // 2 h before midnight, 2 h after
  j.endLifetime("s", "yesterday-to-today", "2026-11-22T02:00:00.000Z");
  j.startLifetime({ ...vm, name: "running", startedAt: "2026-11-22T10:00:00.000Z" });
  j.startLifetime({ ...vm, name: "other-stack", stack: "t", startedAt: "2026-11-22T10:00:00.000Z" });
  const at = Date.parse("2026-11-22T12:00:00.000Z");
  const spent = await new JournalBudgetSource(j, "s").spentTodayUsd(at);
  assert.equal(spent, 0.5 * 2 + 0.5 * 2);
  assert.deepEqual((await new JournalFleetReader(j, "s").actual()).burst!.map((v) => v.name), ["running"]);
  const days = spendByDay(j.lifetimesBetween("s", "2026-11-21T00:00:00.000Z", "2026-11-22T12:00:00.000Z"), at, 2);
  assert.deepEqual(days.map((d) => [d.day, d.totalUsd]), [["2026-11-22", 2], ["2026-11-21", 1]]);
  j.close();
});

test("journal: a kill -9 during writes leaves it readable and consistent", async () => {
  const file = tmp();
  Journal.open(file).close();
  // A child writes plans (each with 50 decisions, one transaction) as fast as it can; we kill it mid-stream.
  const child = spawn(process.execPath, ["--import", "tsx", "-e", `
    const { Journal } = require(${JSON.stringify(path.join(REPO, "reconciler/journal"))});
    const j = Journal.open(${JSON.stringify(file)});
    const decisions = Array.from({ length: 50 }, (_, i) => ({ area: "burst", kind: "noop", reason: "r" + i, from: 0, to: 0 }));
    process.stdout.write("ready\\n");
    for (let i = 0; ; i++) j.recordPlan({ at: new Date().toISOString(), stack: "k", source: "live", desired: {}, decisions, costs: {}, signalsDigest: String(i) }, new Date().toISOString());
  `], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  await new Promise((r) => setTimeout(r, 400));
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));

  const j = Journal.open(file);
  assert.equal(j.db.pragma("integrity_check", { simple: true }), "ok");
  const plans = (j.db.prepare("SELECT count(*) n FROM plans").get() as { n: number }).n;
  assert.ok(plans > 0, "the child wrote something before it was killed");
  const partial = j.db.prepare("SELECT p.id, count(d.id) n FROM plans p LEFT JOIN decisions d ON d.plan_id = p.id GROUP BY p.id HAVING n != 50").all();
  assert.deepEqual(partial, [], "every plan has all 50 of its decisions");
  j.close();
});

test("journal: its folder is 0700 and the journal 0600 (its -wal too); a wider existing journal is tightened", () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-perm-")), ".fleet");
  const file = path.join(dir, "journal.db");
  const j = Journal.open(file);
  j.recordEvent({ at: "2026-11-22T12:00:00.000Z", stack: "s", kind: "in-sync" });
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(`${file}-wal`).mode & 0o777, 0o600);
  j.close();
  fs.chmodSync(file, 0o644);
  Journal.open(file).close();
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

// Issue 18, item 6: journal faults ended in a raw SqliteError and a stack trace, and a journal with
// garbage in the middle was written to.
test("journal: damaged, foreign, newer or read-only journals are refused with one line naming the file and the way out", () => {
  const { JournalError } = require("../../reconciler/journal") as typeof import("../../reconciler/journal");
  const refused = (file: string, re: RegExp, open: (f: string) => unknown = (f) => Journal.open(f)) =>
    assert.throws(() => open(file), (e: unknown) => e instanceof JournalError && e.exitCode === 1 && e.message.includes(file) && re.test(e.message) && !e.message.includes("\n"));

  const notDb = tmp();
  fs.writeFileSync(notDb, "this is not sqlite at all, just text ".repeat(200));
  refused(notDb, /is not a readable SQLite database .*mv .*\.broken/);
  refused(notDb, /is not a readable SQLite database/, (f) => Journal.openExisting(f));

  // A real journal with garbage written over the middle of its pages.
  const damaged = tmp();
  const j = Journal.open(damaged);
  for (let i = 0; i < 300; i++) j.recordEvent({ at: new Date(1_795_000_000_000 + i).toISOString(), stack: "s", kind: "probe", detail: { i, pad: "x".repeat(200) } });
  j.close();
  const size = fs.statSync(damaged).size;
  const fd = fs.openSync(damaged, "r+");
  fs.writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, Math.floor(size / 2 / 4096) * 4096);
  fs.closeSync(fd);
  const before = fs.readFileSync(damaged);
  refused(damaged, /is (damaged|not a readable SQLite database)/);
  assert.deepEqual(fs.readFileSync(damaged), before, "nothing was written to the damaged journal");

  const newer = tmp();
  const db = new Database(newer);
  db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  refused(newer, /newer than this fleet .*upgrade fleet/);
  refused(newer, /newer than this fleet/, (f) => Journal.openExisting(f));
});

// Issue 18, item 6: the journal grew about 1 KB per in-sync cycle with no retention.
test("journal: retention removes what is older than the cutoff and keeps what runs; its size is known", () => {
  const j = Journal.open(tmp());
  const plan = (at: string) => j.recordPlan({ at, stack: "s", source: "reconcile", desired: EMPTY_DESIRED, decisions: [{ area: "burst", kind: "noop", reason: "r", from: 0, to: 0 }], costs: {}, signalsDigest: "d" }, at);
  const old = plan("2026-08-01T00:00:00.000Z");
  j.recordApply({ stack: "s", planId: old, startedAt: "2026-08-01T00:00:01.000Z", finishedAt: "2026-08-01T00:00:02.000Z", status: "succeeded", summary: {} });
  plan("2026-11-30T00:00:00.000Z");
  j.recordEvent({ at: "2026-08-01T00:00:00.000Z", stack: "s", kind: "in-sync" });
  j.recordEvent({ at: "2026-11-30T00:00:00.000Z", stack: "s", kind: "in-sync" });
  j.recordPressureSamples([{ at: "2026-08-01T00:00:00.000Z", memUsedPct: 50, swapUsedPct: 0 }, { at: "2026-11-30T00:00:00.000Z", memUsedPct: 60, swapUsedPct: 0 }]);
  const vm = { stack: "s", area: "burst" as const, provider: "gcp", zone: "us-central1-a", machineType: "e2-standard-4", hourUsd: 0.04 };
  j.startLifetime({ ...vm, name: "ended-long-ago", startedAt: "2026-07-01T00:00:00.000Z" });
  j.endLifetime("s", "ended-long-ago", "2026-07-02T00:00:00.000Z");
  j.startLifetime({ ...vm, name: "still-running", startedAt: "2026-07-01T00:00:00.000Z" });
  const before = j.sizeBytes();
  assert.ok(before > 0);
  const removed = j.prune("2026-09-01T00:00:00.000Z");
  assert.equal(removed, 6, "1 decision, 1 apply, 1 plan, 1 event, 1 sample, 1 ended lifetime");
  assert.equal(j.lastPlan("s")!.at, "2026-11-30T00:00:00.000Z");
  assert.deepEqual(j.openLifetimes("s").map((l) => l.name), ["still-running"]);
  assert.deepEqual(j.pressureSamplesSince("2000-01-01T00:00:00Z").map((x) => x.memUsedPct), [60]);
  assert.equal(j.events("s", { kind: "in-sync", limit: 10 }).length, 1);
  j.close();
});

// A read-only mount (as root a chmod does not stop writes, a read-only bind mount does): needs root
// and unshare (util-linux), as the standby engine test's sandbox does.
const canMount = process.getuid?.() === 0 && spawnSync("unshare", ["-m", "true"]).status === 0;

/** Opens the journal at `file` read-only inside a mount namespace where its directory is read-only. */
function countOnReadOnlyMount(file: string): { status: number | null; stdout: string; stderr: string } {
  const dir = path.dirname(file);
  const reader = path.join(os.tmpdir(), `fleet-ro-read-${process.pid}.mts`);
  fs.writeFileSync(reader, `import { Journal } from ${JSON.stringify(path.join(REPO, "reconciler", "journal", "index.ts"))};
const j = Journal.openExisting(${JSON.stringify(file)});
console.log(JSON.stringify(j.db.prepare("select count(*) as n from pressure_samples").get()));\n`);
  const script = `mount --bind ${dir} ${dir} && mount -o remount,bind,ro ${dir} && { touch ${dir}/probe 2>/dev/null && echo writable; ` +
    `${JSON.stringify(process.execPath)} --import tsx ${reader}; }`;
  return spawnSync("unshare", ["-m", "bash", "-c", script], { cwd: REPO, encoding: "utf8" });
}

test("a WAL journal on a read-only mount is read by status and costs (a private snapshot), its -wal replayed", { skip: canMount ? false : "needs root and unshare" }, () => {
  const at = new Date().toISOString();
  // A journal closed cleanly: only journal.db; SQLite cannot create the -shm a WAL read needs.
  const closed = tmp();
  const j = Journal.open(closed);
  j.recordPressureSamples([{ at, memUsedPct: 91, swapUsedPct: 0 }]);
  j.db.close();
  // A copy taken while the writer ran (a backup, a synced folder): journal.db and its -wal, no -shm.
  const live = tmp();
  const w = Journal.open(live);
  const later = new Date(Date.parse(at) + 60_000).toISOString();
  w.recordPressureSamples([{ at, memUsedPct: 91, swapUsedPct: 0 }, { at: later, memUsedPct: 92, swapUsedPct: 0 }]);
  const copied = tmp();
  fs.copyFileSync(live, copied);
  fs.copyFileSync(`${live}-wal`, `${copied}-wal`);
  w.db.close();
  for (const [file, n] of [[closed, 1], [copied, 2]] as const) {
    const before = fs.readdirSync(path.dirname(file)).sort();
    const r = countOnReadOnlyMount(file);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /writable/, "the mount is read-only");
    assert.deepEqual(JSON.parse(r.stdout.trim().split("\n").at(-1)!), { n });
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), before, "nothing written next to the journal");
  }
});
