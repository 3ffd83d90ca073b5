import type { E2eContext } from '../e2e-context';
import { committedRecords, growthByTopic } from '../log-offsets';
import { OrderTracker } from '../order-tracker';
import { waitUntilQuiet } from '../quiet';
import { customerHeaders, forEachConcurrently, placeOrder } from '../shop';

export interface TopicEntries {
  topic: string;
  /** Log end offset growth: records, transaction markers and aborted records. */
  offsets: number;
  /** Committed records (what a read_committed reader gets). */
  records: number;
}

export interface LogEntriesResult {
  orders: number;
  placed: number;
  confirmed: number;
  cancelled: number;
  /** The stack had gone quiet before the first order and after the last settled. */
  quietBefore: boolean;
  quietAfter: boolean;
  offsets: number;
  records: number;
  offsetsPerOrder: number;
  recordsPerOrder: number;
  topics: TopicEntries[];
}

/**
 * Log entries per order: with the stack quiet, places `logOrders` one-line orders (a few at a
 * time), waits until each is settled and the stack is quiet again, and counts how far every
 * topic's log end moved, and how many committed records that is.
 */
export async function measureLogEntries(ctx: E2eContext): Promise<LogEntriesResult> {
  const { plan } = ctx;
  const before = await waitUntilQuiet(ctx.admin, ctx.topics, 2000, plan.drainMaxMs);
  const tracker = new OrderTracker(ctx.kafka, ctx.orderEvents, 'customer:lw-');
  tracker.start(before.ends);
  try {
    const customers = await customerHeaders(ctx.config, 'lw-', plan.logOrders);
    await forEachConcurrently(plan.logOrders, 8, async (i) => {
      const { body } = ctx.nextOrder();
      const headers = customers[i] ?? {};
      await placeOrder(
        ctx.setup,
        headers,
        body,
        `lw-${ctx.names.id}-${i}`,
        plan.requestTimeoutMs,
        5,
      );
    });
    await tracker.waitFor(
      () => tracker.placed.size >= plan.logOrders && tracker.settled >= tracker.placed.size,
      plan.drainMaxMs + 60_000,
    );
  } finally {
    await tracker.stop();
  }
  const after = await waitUntilQuiet(ctx.admin, ctx.topics, 3000, plan.drainMaxMs);
  const growth = growthByTopic(before.ends, after.ends);
  const records = await committedRecords(ctx.countingKafka, before.ends, after.ends);
  const topics = [...growth]
    .filter(([, offsets]) => offsets > 0n)
    .map(([topic, offsets]) => ({
      topic,
      offsets: Number(offsets),
      records: records.get(topic) ?? 0,
    }));
  const totalOffsets = topics.reduce((sum, t) => sum + t.offsets, 0);
  const totalRecords = topics.reduce((sum, t) => sum + t.records, 0);
  const orders = tracker.placed.size;
  return {
    orders: plan.logOrders,
    placed: orders,
    confirmed: tracker.confirmed.size,
    cancelled: tracker.cancelled.size,
    quietBefore: before.quiet,
    quietAfter: after.quiet,
    offsets: totalOffsets,
    records: totalRecords,
    offsetsPerOrder: orders > 0 ? round(totalOffsets / orders) : 0,
    recordsPerOrder: orders > 0 ? round(totalRecords / orders) : 0,
    topics,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
