import type { DesiredFleet, FleetPolicy } from "./model";
import { HOUR_MS } from "./decide/time";

/** One limit a desired fleet breaks: the field of the desired fleet and what the policy allows. */
export interface LimitViolation {
  field: string;
  message: string;
}

/** Clock slack between a VM's declared creation and expiry (seconds are rounded in names and labels). */
const LIFETIME_SLACK_MS = 60_000;

/**
 * The limits a desired fleet must keep before any path applies it (pure). Every applying path calls
 * it through the applier's `up`, under the stack's lock: a reviewed plan, a hand-edited plan file or
 * stack, `burst create`, `gpu boot|restore`, `hpc`, the reconciler. What already runs (in `before`,
 * the applied fleet) is judged by the limits it was made under; what this apply would add or grow is
 * judged by the policy now. Budget and signal age are checked where the decision is made (they need
 * the signals); these are the limits a desired fleet carries in itself.
 */
export function limitViolations(desired: DesiredFleet, policy: FleetPolicy, before: DesiredFleet): LimitViolation[] {
  const out: LimitViolation[] = [];
  const v = (field: string, message: string) => out.push({ field, message });

  // burst: count, and each new VM's price and lifetime.
  const bp = policy.burst;
  const had = new Set(before.burst.vms.map((x) => x.name));
  const added = desired.burst.vms.filter((x) => !had.has(x.name));
  if (added.length && !bp.enabled) v("burst.vms", `adds ${added.length} VM(s) while burst.enabled is false`);
  if (desired.burst.vms.length > bp.maxConcurrent && desired.burst.vms.length > before.burst.vms.length) {
    v("burst.vms", `${desired.burst.vms.length} VMs is more than burst.maxConcurrent ${bp.maxConcurrent}`);
  }
  for (const vm of added) {
    const at = `burst.vms[${vm.name}]`;
    if (vm.spotHourUsd > bp.maxSpotHourUsd)
      v(`${at}.spotHourUsd`, `$${vm.spotHourUsd}/h is above burst.maxSpotHourUsd $${bp.maxSpotHourUsd}`);
    const lifeMs = Date.parse(vm.expiresAt) - Date.parse(vm.createdAt);
    if (!(lifeMs > 0) || lifeMs > bp.maxLifetimeHours * HOUR_MS + LIFETIME_SLACK_MS) {
      v(
        `${at}.expiresAt`,
        `a lifetime of ${(lifeMs / HOUR_MS).toFixed(2)} h is outside (0, burst.maxLifetimeHours ${bp.maxLifetimeHours} h]`,
      );
    }
  }

  // pool: a new or moved instance within the pool's price limit (spot) and only while enabled.
  const pool = desired.pool;
  const moved =
    pool && JSON.stringify({ ...pool, since: 0 }) !== JSON.stringify(before.pool && { ...before.pool, since: 0 });
  if (pool && moved) {
    if (!policy.pool.enabled) v("pool", "places a pool instance while pool.enabled is false");
    if (!policy.pool.providers.includes(pool.provider))
      v("pool.provider", `${pool.provider} is not in pool.providers (${policy.pool.providers.join(", ")})`);
    if (pool.market === "spot" && pool.hourUsd > policy.pool.maxSpotHourUsd)
      v("pool.hourUsd", `$${pool.hourUsd}/h is above pool.maxSpotHourUsd $${policy.pool.maxSpotHourUsd}`);
  }

  // standby: pairs, each new GPU's price, and the summed Vast spend.
  const sp = policy.standby;
  const pairs = desired.standby.pairs;
  if (pairs.length > sp.maxPairs && pairs.length > before.standby.pairs.length)
    v("standby.pairs", `${pairs.length} pairs is more than standby.maxPairs ${sp.maxPairs}`);
  const oldGpu = new Map(before.standby.pairs.map((p) => [p.pairId, p.gpu?.offerId]));
  let total = 0;
  for (const p of pairs) {
    total += p.gpu?.dphUsd ?? 0;
    if (p.standby.target === "vast") total += p.standby.dphUsd ?? 0;
    if (p.gpu && oldGpu.get(p.pairId) !== p.gpu.offerId && p.gpu.dphUsd > sp.gpu.maxDphUsd) {
      v(
        `standby.pairs[${p.pairId}].gpu.dphUsd`,
        `$${p.gpu.dphUsd}/h is above standby.gpu.maxDphUsd $${sp.gpu.maxDphUsd}`,
      );
    }
  }
  const oldTotal = before.standby.pairs.reduce(
    (a, p) => a + (p.gpu?.dphUsd ?? 0) + (p.standby.target === "vast" ? (p.standby.dphUsd ?? 0) : 0),
    0,
  );
  if (total > sp.maxTotalDphUsd + 1e-9 && total > oldTotal + 1e-9)
    v("standby", `$${total.toFixed(4)}/h rented on Vast.ai is above standby.maxTotalDphUsd $${sp.maxTotalDphUsd}`);
  return out;
}
