import type { E2eContext } from '../e2e-context';
import { endOffsets } from '../log-offsets';
import { OrderTracker } from '../order-tracker';
import { type OutcomeCounts, OutcomeTally } from '../outcome';
import { waitUntilQuiet } from '../quiet';
import {
  createProducts,
  customerHeaders,
  forEachConcurrently,
  oneLineOrder,
  placeOrder,
} from '../shop';

export interface FlashSaleResult {
  buyers: number;
  units: number;
  startedQuiet: boolean;
  /** Each buyer's last answer (after retrying 5xx and no-answer with the same key). */
  outcomes: OutcomeCounts;
  /** Buyers whose order was never sent: the time allowed ran out first. */
  unsent: number;
  retries: number;
  /** From the first request until every buyer had an answer. */
  answeredMs: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  unsettled: number;
  /** Every order placed was confirmed or cancelled within the time allowed. */
  allSettled: boolean;
  /** From the first request until the last order settled (when all did). */
  settledMs: number | null;
  /** Exactly `units` orders confirmed: no oversell, no undersell. */
  exactlyUnitsConfirmed: boolean;
}

const SETTLE_GRACE_MS = 30_000;

/**
 * The flash sale: one product with `flashUnits` units, `flashBuyers` distinct customers each
 * placing one order for one unit as fast as the stack takes them (closed loop of `concurrency`
 * callers). Settlement is read from the order events.
 */
export async function measureFlashSale(ctx: E2eContext): Promise<FlashSaleResult> {
  const { plan } = ctx;
  const [productId] = await createProducts(
    ctx.setup,
    ctx.adminHeaders,
    ctx.names.id,
    1,
    plan.flashUnits,
    'flash',
  );
  if (!productId) throw new Error('the flash-sale product was not created');
  const buyers = await customerHeaders(ctx.config, 'flash-', plan.flashBuyers);
  const quiet = await waitUntilQuiet(ctx.admin, ctx.topics, 2000, plan.drainMaxMs);
  const tracker = new OrderTracker(ctx.kafka, ctx.orderEvents, 'customer:flash-');
  tracker.start(await endOffsets(ctx.admin, [ctx.orderEvents]));
  const tally = new OutcomeTally();
  let retries = 0;
  let taken = 0;
  let unsent = 0;
  const body = oneLineOrder(productId);
  const start = Date.now();
  let answered = 0;
  const progress = setInterval(
    () =>
      ctx.say(
        `  flash sale: ${answered}/${plan.flashBuyers} answered, ${tracker.placed.size} placed, ${tracker.settled} settled (${Math.round((Date.now() - start) / 1000)} s)`,
      ),
    15_000,
  );
  try {
    ctx.say(`e2e: flash sale, ${plan.flashBuyers} buyers for ${plan.flashUnits} units…`);
    await forEachConcurrently(plan.flashBuyers, plan.concurrency, async (i) => {
      if (Date.now() - start > plan.flashMaxMs) {
        unsent += 1;
        return;
      }
      const placed = await placeOrder(
        ctx.closedLoop,
        buyers[i] ?? {},
        body,
        `flash-${ctx.names.id}-${i}`,
        plan.requestTimeoutMs,
        6,
      );
      tally.add(placed.outcome);
      answered += 1;
      retries += placed.attempts - 1;
      if (placed.outcome === 201 || placed.outcome === 202) taken += 1;
    });
    const answeredMs = Date.now() - start;
    // Orders answered late still get a while to settle before the scenario reports.
    const allSettled = await tracker.waitFor(
      () => tracker.placed.size >= taken && tracker.settled >= tracker.placed.size,
      Math.max(SETTLE_GRACE_MS, plan.flashMaxMs - answeredMs),
    );
    return {
      buyers: plan.flashBuyers,
      units: plan.flashUnits,
      startedQuiet: quiet.quiet,
      outcomes: tally.toJSON(),
      unsent,
      retries,
      answeredMs,
      placed: tracker.placed.size,
      confirmed: tracker.confirmed.size,
      cancelled: tracker.cancelled.size,
      unsettled: tracker.placed.size - tracker.settled,
      allSettled,
      settledMs: allSettled ? Math.max(answeredMs, tracker.lastSettledAt - start) : null,
      exactlyUnitsConfirmed: tracker.confirmed.size === plan.flashUnits,
    };
  } finally {
    clearInterval(progress);
    await tracker.stop();
  }
}
