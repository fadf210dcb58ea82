import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "pino";
import type { CycleResult } from "./loop";

/**
 * Runs cycles on a cron schedule, never two at once: a tick that finds a cycle still running is
 * skipped (and logged). stop() lets the running cycle finish; a second stop() cancels the update
 * in flight through `cancel`.
 */
export class Scheduler {
  private running: Promise<void> | undefined;
  private task: ScheduledTask | undefined;
  private stopping = false;
  skipped = 0;
  completed = 0;

  constructor(
    private readonly cycle: () => Promise<CycleResult>,
    private readonly log: Logger,
    private readonly onResult: (r: CycleResult) => void = () => {},
    private readonly cancel: () => Promise<void> = async () => {},
    /** A cycle that threw (signals unreadable, refresh failed, pending operations...). */
    private readonly onError: (e: unknown) => void = () => {},
  ) {}

  static validate(expression: string): boolean {
    return cron.validate(expression);
  }

  start(expression: string): void {
    this.task = cron.schedule(expression, () => void this.tick());
  }

  /** One tick: runs a cycle unless one is running or we are stopping. */
  async tick(): Promise<void> {
    if (this.stopping) return;
    if (this.running) {
      this.skipped++;
      this.log.warn({ event: "tick-skipped" }, "previous cycle still running: tick skipped");
      return;
    }
    this.running = (async () => {
      try {
        const r = await this.cycle();
        this.onResult(r);
        this.log.info({ event: "cycle", outcome: r.outcome, changes: r.plan.changes, configDrift: r.configDrift.length, infraDrift: r.infraDrift.length }, `cycle ${r.outcome}`);
      } catch (e) {
        this.log.error({ event: "cycle-error", err: e instanceof Error ? e.message : String(e) }, "cycle failed");
        this.onError(e);
      } finally {
        this.completed++;
        this.running = undefined;
      }
    })();
    await this.running;
  }

  /** First call: no new ticks, wait for the running cycle. Second call while waiting: cancel the update. */
  async stop(): Promise<void> {
    if (this.stopping) {
      this.log.warn({ event: "cancel" }, "second stop signal: cancelling the update in flight");
      await this.cancel();
      return;
    }
    this.stopping = true;
    this.task?.stop();
    if (this.running) {
      this.log.info({ event: "draining" }, "stop signal: letting the running cycle finish");
      await this.running;
    }
  }

  get busy(): boolean {
    return this.running !== undefined;
  }
}
