import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Area, Decision, DesiredFleet, PressureSample } from "../model";
import { MIGRATIONS } from "./migrations";
import { FleetError } from "../errors";

export interface PlanRecord {
  at: string;
  stack: string;
  source: string;
  desired: DesiredFleet;
  decisions: Decision[];
  costs: unknown;
  signalsDigest: string;
}

export interface VmLifetime {
  stack: string;
  area: Area;
  name: string;
  provider: string;
  zone: string;
  machineType: string;
  hourUsd: number;
  startedAt: string;
  endedAt: string | null;
}

/**
 * The journal: an SQLite file (WAL, synchronous FULL) holding plans, decisions, applies, VM lifetimes
 * and pressure history. Every multi-row write is one transaction, so a kill -9 mid-write leaves
 * either all of it or none of it.
 */
export class Journal {
  private constructor(readonly db: Database.Database, readonly file: string) {}

  static open(file: string): Journal {
    return openChecked(file, () => {
      // Private: the journal records what runs where and what it costs. SQLite gives its -wal and
      // -shm files the database file's mode, so creating that file 0600 covers all three.
      fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
      if (!fs.existsSync(file)) fs.writeFileSync(file, "", { mode: 0o600 });
      else if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      const db = new Database(file);
      db.pragma("busy_timeout = 5000");
      checkIntegrity(db, file);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma("foreign_keys = ON");
      const j = new Journal(db, file);
      j.migrate();
      return j;
    });
  }

  /** Opens an existing journal read-only, or returns undefined when there is none (status, costs). */
  static openExisting(file: string): Journal | undefined {
    if (!fs.existsSync(file)) return undefined;
    return openChecked(file, () => {
      const db = openReadOnly(file);
      db.pragma("busy_timeout = 5000");
      checkIntegrity(db, file);
      const version = db.pragma("user_version", { simple: true }) as number;
      if (version > MIGRATIONS.length) throw new JournalError(file, `is at schema version ${version}, newer than this fleet (${MIGRATIONS.length}): upgrade fleet`);
      return new Journal(db, file);
    });
  }

  get schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) throw new JournalError(this.file, `is at schema version ${current}, newer than this fleet (${MIGRATIONS.length}): upgrade fleet`);
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * Retention: removes what is older than `beforeIso` (plans with their decisions and applies,
   * events, pressure samples, lifetimes that ended). Open lifetimes and area state stay. Returns the
   * rows removed.
   */
  prune(beforeIso: string): number {
    const run = (sql: string) => this.db.prepare(sql).run({ cutoff: beforeIso }).changes;
    return this.db.transaction(() =>
      run("DELETE FROM decisions WHERE plan_id IN (SELECT id FROM plans WHERE recorded_at < @cutoff)") +
      run("DELETE FROM applies WHERE started_at < @cutoff OR plan_id IN (SELECT id FROM plans WHERE recorded_at < @cutoff)") +
      run("DELETE FROM plans WHERE recorded_at < @cutoff") +
      run("DELETE FROM events WHERE at < @cutoff") +
      run("DELETE FROM pressure_samples WHERE at < @cutoff") +
      run("DELETE FROM vm_lifetimes WHERE ended_at IS NOT NULL AND ended_at < @cutoff"),
    )();
  }

  /** The journal's size on disk (the database and its write-ahead log), in bytes. */
  sizeBytes(): number {
    return [this.file, `${this.file}-wal`].reduce((n, f) => n + (fs.existsSync(f) ? fs.statSync(f).size : 0), 0);
  }

  close(): void {
    this.db.close();
  }

  recordPlan(p: PlanRecord, recordedAt: string): number {
    const insertPlan = this.db.prepare(
      "INSERT INTO plans (at, recorded_at, stack, source, desired_json, costs_json, signals_digest) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const insertDecision = this.db.prepare(
      "INSERT INTO decisions (plan_id, stack, at, area, kind, reason, from_json, to_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    return this.db.transaction(() => {
      const id = Number(insertPlan.run(p.at, recordedAt, p.stack, p.source, JSON.stringify(p.desired), JSON.stringify(p.costs), p.signalsDigest).lastInsertRowid);
      for (const d of p.decisions) {
        insertDecision.run(id, p.stack, p.at, d.area, d.kind, d.reason, JSON.stringify(d.from ?? null), JSON.stringify(d.to ?? null));
      }
      return id;
    })();
  }

  lastPlan(stack: string): { id: number; at: string; source: string; desired: DesiredFleet; costs: unknown } | undefined {
    const row = this.db.prepare("SELECT id, at, source, desired_json, costs_json FROM plans WHERE stack = ? ORDER BY id DESC LIMIT 1").get(stack) as
      | { id: number; at: string; source: string; desired_json: string; costs_json: string }
      | undefined;
    return row && { id: row.id, at: row.at, source: row.source, desired: JSON.parse(row.desired_json), costs: JSON.parse(row.costs_json) };
  }

  decisions(stack: string, opts: { area?: Area; limit?: number; planId?: number } = {}): (Decision & { at: string; planId: number })[] {
    const rows = this.db
      .prepare(
        `SELECT plan_id, at, area, kind, reason, from_json, to_json FROM decisions WHERE stack = ?
         AND (? IS NULL OR area = ?) AND (? IS NULL OR plan_id = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(stack, opts.area ?? null, opts.area ?? null, opts.planId ?? null, opts.planId ?? null, opts.limit ?? 50) as {
      plan_id: number; at: string; area: Area; kind: Decision["kind"]; reason: string; from_json: string; to_json: string;
    }[];
    return rows.map((r) => ({ planId: r.plan_id, at: r.at, area: r.area, kind: r.kind, reason: r.reason, from: JSON.parse(r.from_json), to: JSON.parse(r.to_json) }));
  }

  recordPressureSamples(samples: readonly PressureSample[]): void {
    const stmt = this.db.prepare("INSERT OR REPLACE INTO pressure_samples (at, mem_used_pct, swap_used_pct) VALUES (?, ?, ?)");
    this.db.transaction(() => {
      for (const s of samples) stmt.run(s.at, s.memUsedPct, s.swapUsedPct);
    })();
  }

  pressureSamplesSince(sinceIso: string): PressureSample[] {
    return (this.db.prepare("SELECT at, mem_used_pct, swap_used_pct FROM pressure_samples WHERE at >= ? ORDER BY at").all(sinceIso) as {
      at: string; mem_used_pct: number; swap_used_pct: number;
    }[]).map((r) => ({ at: r.at, memUsedPct: r.mem_used_pct, swapUsedPct: r.swap_used_pct }));
  }

  startLifetime(vm: Omit<VmLifetime, "endedAt">): void {
    this.db
      .prepare("INSERT OR IGNORE INTO vm_lifetimes (stack, area, name, provider, zone, machine_type, hour_usd, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
      .run(vm.stack, vm.area, vm.name, vm.provider, vm.zone, vm.machineType, vm.hourUsd, vm.startedAt);
  }

  endLifetime(stack: string, name: string, endedAt: string): void {
    this.db.prepare("UPDATE vm_lifetimes SET ended_at = ? WHERE stack = ? AND name = ? AND ended_at IS NULL").run(endedAt, stack, name);
  }

  openLifetimes(stack: string, area?: Area): VmLifetime[] {
    return (this.db
      .prepare("SELECT * FROM vm_lifetimes WHERE stack = ? AND ended_at IS NULL AND (? IS NULL OR area = ?) ORDER BY started_at, name")
      .all(stack, area ?? null, area ?? null) as LifetimeRow[]).map(fromRow);
  }

  /** Lifetimes overlapping [fromIso, toIso). */
  lifetimesBetween(stack: string, fromIso: string, toIso: string): VmLifetime[] {
    return (this.db
      .prepare("SELECT * FROM vm_lifetimes WHERE stack = ? AND started_at < ? AND (ended_at IS NULL OR ended_at > ?) ORDER BY started_at, name")
      .all(stack, toIso, fromIso) as LifetimeRow[]).map(fromRow);
  }

  recordEvent(e: { at: string; stack: string; area?: Area; kind: string; detail?: unknown }): void {
    this.db.prepare("INSERT INTO events (at, stack, area, kind, detail_json) VALUES (?, ?, ?, ?, ?)").run(e.at, e.stack, e.area ?? null, e.kind, JSON.stringify(e.detail ?? null));
  }

  areaState(stack: string, area: Area): AreaState {
    const row = this.db.prepare("SELECT mode, consecutive_failures, last_change_at, reason FROM area_state WHERE stack = ? AND area = ?").get(stack, area) as
      | { mode: "auto" | "manual"; consecutive_failures: number; last_change_at: string | null; reason: string | null }
      | undefined;
    return row ? { mode: row.mode, consecutiveFailures: row.consecutive_failures, lastChangeAt: row.last_change_at, reason: row.reason } : { mode: "auto", consecutiveFailures: 0, lastChangeAt: null, reason: null };
  }

  setAreaState(stack: string, area: Area, s: AreaState): void {
    this.db
      .prepare(
        `INSERT INTO area_state (stack, area, mode, consecutive_failures, last_change_at, reason) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (stack, area) DO UPDATE SET mode = excluded.mode, consecutive_failures = excluded.consecutive_failures,
         last_change_at = excluded.last_change_at, reason = excluded.reason`,
      )
      .run(stack, area, s.mode, s.consecutiveFailures, s.lastChangeAt, s.reason);
  }

  recordApply(a: { stack: string; planId: number | null; startedAt: string; finishedAt: string; status: "succeeded" | "failed" | "skipped"; summary: unknown }): number {
    return Number(
      this.db
        .prepare("INSERT INTO applies (plan_id, stack, started_at, finished_at, status, summary_json) VALUES (?, ?, ?, ?, ?, ?)")
        .run(a.planId, a.stack, a.startedAt, a.finishedAt, a.status, JSON.stringify(a.summary ?? null)).lastInsertRowid,
    );
  }

  events(stack: string, opts: { kind?: string; limit?: number } = {}): { at: string; area: string | null; kind: string; detail: unknown }[] {
    return (this.db.prepare("SELECT at, area, kind, detail_json FROM events WHERE stack = ? AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?").all(stack, opts.kind ?? null, opts.kind ?? null, opts.limit ?? 50) as {
      at: string; area: string | null; kind: string; detail_json: string;
    }[]).map((r) => ({ at: r.at, area: r.area, kind: r.kind, detail: JSON.parse(r.detail_json) }));
  }

  /** Runs `fn` in one transaction (all of its writes or none). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of ["plans", "decisions", "applies", "vm_lifetimes", "pressure_samples", "events", "area_state"]) {
      out[t] = (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    }
    return out;
  }
}

export interface AreaState {
  mode: "auto" | "manual";
  consecutiveFailures: number;
  lastChangeAt: string | null;
  reason: string | null;
}

type LifetimeRow = { stack: string; area: Area; name: string; provider: string; zone: string; machine_type: string; hour_usd: number; started_at: string; ended_at: string | null };
function fromRow(r: LifetimeRow): VmLifetime {
  return { stack: r.stack, area: r.area, name: r.name, provider: r.provider, zone: r.zone, machineType: r.machine_type, hourUsd: r.hour_usd, startedAt: r.started_at, endedAt: r.ended_at };
}

/** The journal cannot be used as it is (exit 1): the message names the file, the fault and the way out. */
export class JournalError extends FleetError {
  constructor(readonly file: string, what: string) {
    super(`journal ${file} ${what}`);
  }
}

const RECOVER = (file: string) =>
  `move it aside (mv ${file} ${file}.broken; also its -wal and -shm files) and run again: fleet starts a new journal. ` +
  `The old one's history can be salvaged with \`sqlite3 ${file}.broken .recover\`.`;

/** `PRAGMA quick_check` on open: a damaged journal is refused before anything reads or writes it. */
function checkIntegrity(db: Database.Database, file: string): void {
  const result = db.pragma("quick_check", { simple: true });
  if (result !== "ok") {
    db.close();
    throw new JournalError(file, `is damaged (SQLite quick_check: ${String(result).replace(/\s+/g, " ").slice(0, 120)}): ${RECOVER(file)}`);
  }
}

/** Opens with SQLite's faults said in one line each, never a SqliteError and its trace. */
/**
 * A WAL journal read in place needs its -shm file, which SQLite creates next to it: on a read-only
 * mount or directory that cannot happen and the open fails (SQLITE_CANTOPEN). Reads (status, costs)
 * then work on a private snapshot: the database and its -wal copied into a 0700 temporary directory
 * (removed at exit), where SQLite replays the WAL as it would in place. Nothing is written back.
 */
function openReadOnly(file: string): Database.Database {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("user_version"); // the first read is where a missing -shm shows
    return db;
  } catch (e) {
    if (!/CANTOPEN/.test((e as { code?: string }).code ?? "")) throw e;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-journal-ro-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const copy = path.join(dir, path.basename(file));
    fs.copyFileSync(file, copy);
    if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
    return new Database(copy, { readonly: true, fileMustExist: true });
  }
}

function openChecked(file: string, open: () => Journal): Journal {
  try {
    return open();
  } catch (e) {
    if (e instanceof JournalError) throw e;
    const code = (e as { code?: string }).code ?? "";
    const msg = e instanceof Error ? e.message : String(e);
    if (/NOTADB|CORRUPT/.test(code)) throw new JournalError(file, `is not a readable SQLite database (${msg}): ${RECOVER(file)}`);
    if (/READONLY|CANTOPEN|EACCES|EPERM/.test(code)) throw new JournalError(file, `cannot be opened for writing (${msg}): check its owner and mode, and that its directory is writable`);
    if (/BUSY|LOCKED/.test(code)) throw new JournalError(file, `is locked by another process (${msg}): wait for it, or stop it`);
    if (/FULL|ENOSPC/.test(code)) throw new JournalError(file, `cannot be written: the disk is full (${msg})`);
    throw e;
  }
}
