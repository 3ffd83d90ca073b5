import type { E2eContext } from '../e2e-context';
import { waitUntilQuiet } from '../quiet';
import { type OfferedLoadResult, offerOrders } from './open-loop-run';

export interface OverloadResult extends OfferedLoadResult {
  /** The measured capacity (acknowledged orders/s) the offered rate is a multiple of. */
  capacityPerSec: number;
  factor: number;
  startedQuiet: boolean;
  /** No answer was a 500: overload is refused (503) or deferred (202), never a fault. */
  noServerErrors: boolean;
}

/** Offers `overloadFactor` × the measured capacity for `overloadMs` and counts what comes back. */
export async function measureOverload(
  ctx: E2eContext,
  capacityPerSec: number,
): Promise<OverloadResult> {
  const { plan } = ctx;
  // A stack that acknowledged nothing still gets a load worth the name.
  const rate = Math.max(30, Math.round(plan.overloadFactor * capacityPerSec));
  const quiet = await waitUntilQuiet(ctx.admin, ctx.topics, 2000, plan.drainMaxMs);
  ctx.say(`e2e: overload, ${rate} orders/s offered for ${plan.overloadMs / 1000} s…`);
  const result = await offerOrders(ctx, rate, plan.overloadMs);
  return {
    ...result,
    capacityPerSec: Math.round(capacityPerSec),
    factor: plan.overloadFactor,
    startedQuiet: quiet.quiet,
    noServerErrors: (result.outcomes['500'] ?? 0) === 0,
  };
}
