/**
 * Versioned migrations, applied in order inside one transaction each; PRAGMA user_version holds the
 * version reached. Never edit a shipped migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: plans with their decisions, applies, VM lifetimes (the basis of costs), pressure history, events.
  `
  CREATE TABLE plans (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,               -- the signals' clock
    recorded_at TEXT NOT NULL,      -- when the plan was written
    stack TEXT NOT NULL,
    source TEXT NOT NULL,           -- live | file:<path> | reconcile | backtest
    desired_json TEXT NOT NULL,
    costs_json TEXT NOT NULL,
    signals_digest TEXT NOT NULL
  );
  CREATE INDEX plans_stack_at ON plans(stack, at);
  CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER NOT NULL REFERENCES plans(id),
    stack TEXT NOT NULL,
    at TEXT NOT NULL,
    area TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    from_json TEXT,
    to_json TEXT
  );
  CREATE INDEX decisions_stack_area_at ON decisions(stack, area, at);
  CREATE TABLE applies (
    id INTEGER PRIMARY KEY,
    plan_id INTEGER REFERENCES plans(id),
    stack TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,           -- running | succeeded | failed | skipped
    summary_json TEXT
  );
  CREATE TABLE vm_lifetimes (
    stack TEXT NOT NULL,
    area TEXT NOT NULL,
    name TEXT NOT NULL,
    provider TEXT NOT NULL,
    zone TEXT NOT NULL,
    machine_type TEXT NOT NULL,
    hour_usd REAL NOT NULL CHECK (hour_usd >= 0),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    PRIMARY KEY (stack, name, started_at)
  );
  CREATE INDEX vm_lifetimes_open ON vm_lifetimes(stack, area, ended_at);
  CREATE TABLE pressure_samples (
    at TEXT PRIMARY KEY,
    mem_used_pct REAL NOT NULL,
    swap_used_pct REAL NOT NULL
  );
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    stack TEXT NOT NULL,
    area TEXT,
    kind TEXT NOT NULL,
    detail_json TEXT
  );
  `,
  // 2: per-area reconcile state: mode (auto | manual, set by the circuit breaker or `fleet mode`),
  // consecutive failed applies, and when the area last changed (cooldown).
  `
  CREATE TABLE area_state (
    stack TEXT NOT NULL,
    area TEXT NOT NULL,
    mode TEXT NOT NULL DEFAULT 'auto' CHECK (mode IN ('auto', 'manual')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_change_at TEXT,
    reason TEXT,
    PRIMARY KEY (stack, area)
  );
  CREATE INDEX events_stack_kind_at ON events(stack, kind, at);
  `,
];
