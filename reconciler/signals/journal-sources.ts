import type { ActualFleetInput } from "../model";
import type { Journal } from "../journal";
import { spendUsd } from "../costs";
import { startOfUtcDay } from "../decide/time";
import type { BudgetSource, FleetReader } from "./types";

/**
 * Burst spend today (UTC) from the VM lifetimes the journal recorded, at their hourly prices. The
 * daily budget is the burst area's (burst.dailyBudgetUsd); GPUs have their own limits (standby.*).
 */
export class JournalBudgetSource implements BudgetSource {
  constructor(private readonly journal: Journal, private readonly stack: string) {}
  async spentTodayUsd(atMs: number): Promise<number> {
    const from = startOfUtcDay(atMs);
    return spendUsd(this.journal.lifetimesBetween(this.stack, new Date(from).toISOString(), new Date(atMs).toISOString()).filter((l) => l.area === "burst"), from, atMs);
  }
}

/**
 * The fleet as the journal last saw it applied (open lifetimes). It cannot see preemptions or idle
 * time; the cloud readers (and `refresh`) can. lastBusyAt is unknown here, so only lifetime limits apply.
 */
export class JournalFleetReader implements FleetReader {
  constructor(private readonly journal: Journal, private readonly stack: string) {}
  async actual(): Promise<ActualFleetInput> {
    return {
      burst: this.journal.openLifetimes(this.stack, "burst").map((l) => ({ name: l.name, zone: l.zone, machineType: l.machineType, createdAt: l.startedAt, lastBusyAt: null })),
    };
  }
}
