import type { E2eContext } from '../e2e-context';
import { waitUntilQuiet } from '../quiet';
import { type OfferedLoadResult, offerOrders } from './open-loop-run';

export interface FixedRateResult extends OfferedLoadResult {
  /** The stack had worked off the previous run before this one started. */
  startedQuiet: boolean;
}

/**
 * p50/p99 of POST /orders at each fixed offered rate (open loop; latency from each request's
 * scheduled start). Before each rate the stack may work off the previous one (bounded wait).
 */
export async function measureFixedRates(ctx: E2eContext): Promise<FixedRateResult[]> {
  const results: FixedRateResult[] = [];
  for (const rate of ctx.plan.rates) {
    const quiet = await waitUntilQuiet(ctx.admin, ctx.topics, 2000, ctx.plan.drainMaxMs / 3);
    ctx.say(`e2e: ${rate} orders/s offered for ${ctx.plan.rateMs / 1000} s…`);
    results.push({ ...(await offerOrders(ctx, rate, ctx.plan.rateMs)), startedQuiet: quiet.quiet });
  }
  return results;
}
