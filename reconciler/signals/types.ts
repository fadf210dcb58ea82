import type { ActualFleetInput, PressureSample, PriceRecord } from "../model";

/** Boundaries between the reconciler and the world. Test doubles live in test/doubles. */
export interface PressureSource {
  /** Memory pressure samples, oldest first, at or before `atMs`. */
  samples(atMs: number): Promise<PressureSample[]>;
}
export interface PriceSource {
  prices(): Promise<PriceRecord[]>;
  /** Where the prices come from and how old they are, for `fleet plan` (after prices()). */
  describe?(): string;
}
export interface BudgetSource {
  /** Spend so far in the UTC day of `atMs`. */
  spentTodayUsd(atMs: number): Promise<number>;
}
export interface FleetReader {
  /** The fleet as it actually is. */
  actual(): Promise<ActualFleetInput>;
}
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
