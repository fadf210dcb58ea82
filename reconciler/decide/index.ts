import type { Decision, DesiredFleet, FleetPolicy, Signals } from "../model";
import { decideBurst, type BurstOutcome } from "./burst";
import { decideHpc } from "./hpc";
import { decidePool } from "./pool";
import { decideStandby, vastDphUsd } from "./standby";

export interface DecideInput {
  signals: Signals;
  policy: FleetPolicy;
  /** The applied desired fleet; areas not decided here carry their value through. */
  previous: DesiredFleet;
}

export interface DecideOutput {
  desired: DesiredFleet;
  decisions: Decision[];
  costs: { hourlyUsd: number; projectedDailyUsd: number | null };
  burst: Pick<BurstOutcome, "pressure">;
}

/**
 * One pure, deterministic decision over the whole fleet. The clock is `signals.at`; nothing here
 * reads the time, the disk or the network. plan, reconcile and backtest all call this.
 */
export function decide(input: DecideInput): DecideOutput {
  const atMs = Date.parse(input.signals.at);
  const burst = decideBurst({ atMs, policy: input.policy.burst, signalsPolicy: input.policy.signals, signals: input.signals, previous: input.previous.burst });
  const hpc = decideHpc(input.previous.hpc, input.signals, input.policy.hpc);
  const pool = decidePool({ previous: input.previous.pool, signals: input.signals, policy: input.policy.pool, atMs });
  const standby = decideStandby({ previous: input.previous.standby, signals: input.signals, policy: input.policy.standby, atMs });
  const gpuHourly = vastDphUsd(standby.desired.pairs);
  return {
    desired: { ...input.previous, burst: burst.desired, hpc: hpc.desired, pool: pool.desired, standby: standby.desired },
    decisions: [...burst.decisions, ...pool.decisions, ...standby.decisions, ...hpc.decisions],
    costs: { hourlyUsd: burst.hourlyUsd + (pool.desired?.hourUsd ?? 0) + gpuHourly, projectedDailyUsd: burst.projectedDailyUsd },
    burst: { pressure: burst.pressure },
  };
}

export { pressureLevel } from "./pressure";
export { decideBurst, remainingTodayUsd } from "./burst";
