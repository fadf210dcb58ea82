import * as http from "node:http";
import { FleetError } from "./errors";
import { Counter, Gauge, Registry } from "prom-client";
import type { CycleResult } from "./loop";

/** Prometheus metrics of the reconciler, on 127.0.0.1 only. */
export class ReconcilerMetrics {
  readonly registry = new Registry();
  readonly cycles = new Counter({ name: "fleet_cycles_total", help: "Reconcile cycles by outcome", labelNames: ["outcome"], registers: [this.registry] });
  readonly decisions = new Counter({ name: "fleet_decisions_total", help: "Decisions by area and kind", labelNames: ["area", "kind"], registers: [this.registry] });
  readonly drift = new Counter({ name: "fleet_drift_total", help: "Cycles that found drift, by kind (config, infrastructure)", labelNames: ["kind"], registers: [this.registry] });
  readonly applyFailures = new Counter({ name: "fleet_apply_failures_total", help: "Failed applies", registers: [this.registry] });
  readonly cycleErrors = new Counter({ name: "fleet_cycle_errors_total", help: "Cycles that failed before a result, by reason (the error's kind)", labelNames: ["reason"], registers: [this.registry] });
  readonly spendToday = new Gauge({ name: "fleet_spend_today_usd", help: "Spend so far today (UTC), USD", registers: [this.registry] });
  readonly projectedDaily = new Gauge({ name: "fleet_projected_daily_usd", help: "Projected spend for today, USD", registers: [this.registry] });
  readonly hourly = new Gauge({ name: "fleet_hourly_usd", help: "Hourly cost of the desired fleet, USD", registers: [this.registry] });

  observe(r: CycleResult): void {
    this.cycles.inc({ outcome: r.outcome });
    for (const d of r.plan.decisions) this.decisions.inc({ area: d.area, kind: d.kind });
    if (r.configDrift.length) this.drift.inc({ kind: "config" });
    if (r.infraDrift.length) this.drift.inc({ kind: "infrastructure" });
    if (r.outcome === "failed") this.applyFailures.inc();
    if (r.plan.costs.spentTodayUsd !== null) this.spendToday.set(r.plan.costs.spentTodayUsd);
    if (r.plan.costs.projectedDailyUsd !== null) this.projectedDaily.set(r.plan.costs.projectedDailyUsd);
    this.hourly.set(r.plan.costs.hourlyUsd);
  }

  /** A cycle that threw: counted by the kind of its error (a bounded set of class names). */
  observeError(e: unknown): void {
    const reason = e instanceof Error ? (e.constructor?.name || "Error") : "unknown";
    this.cycleErrors.inc({ reason: /^[A-Za-z]{1,40}$/.test(reason) ? reason : "Error" });
  }

  /** Serves /metrics on 127.0.0.1:port; resolves with the bound port. */
  serve(port: number): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer(async (req, res) => {
      if (req.url === "/metrics") {
        res.setHeader("Content-Type", this.registry.contentType);
        res.end(await this.registry.metrics());
      } else {
        res.statusCode = 404;
        res.end("not found\n");
      }
    });
    return new Promise((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => {
        if (e.code !== "EADDRINUSE") return reject(e);
        const fix = "each stack's scheduled reconciler needs its own port: set reconcile.metricsPort (FLEET_RECONCILE_METRICS_PORT) in this stack, or 0 for none";
        reject(new FleetError(`reconcile.metricsPort: 127.0.0.1:${port} is already in use (another reconciler, or another program): ${fix}`));
      });
      server.listen(port, "127.0.0.1", () => {
        const addr = server.address();
        resolve({ port: typeof addr === "object" && addr ? addr.port : port, close: () => new Promise((r) => server.close(() => r())) });
      });
    });
  }
}
