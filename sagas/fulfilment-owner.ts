import { context, type Span } from '@opentelemetry/api';
import { deadlineCommandId } from '../domain/fulfilment/actions';
import { isSettled, overdueOrders, type TrackedOrder } from '../domain/fulfilment/saga';
import { fulfilmentWorkflow } from '../domain/fulfilment/workflow';
import { type ConsumedRecord, type KafkaClient, partitionKey, readToEnd } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { sagaOutcomes } from '../lib/metrics/registry';
import type { Decided, Entry, PartitionWork } from '../lib/owned-partitions/partition-work';
import { contextWith, endSpan, startConsumerSpan, TRACERS } from '../lib/telemetry/trace-context';
import { type FoldedEvent, OrderBook } from './order-book';
import { Outbox, type RetryPolicy } from './outbox';
import { firstAttempt, type OwedPayment, type PaymentDeps, settleAll } from './payment-step';

/** A local request: cancel the orders of this partition left pending past their deadline. */
export interface DeadlineSweep {
  kind: 'deadline-sweep';
}

export interface FulfilmentOwnerOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** The saga's consumer group on the order events (its committed offsets end the rebuild). */
  groupId: string;
  ordersTopic: string;
  partition: number;
  retry: RetryPolicy;
  payments: PaymentDeps;
  deadlineMs: number;
}

/**
 * The fulfilment saga for the orders of one partition of the order events (DESIGN §6), as the
 * owned-partition runtime runs it: the orders folded from their events, rebuilt up to the
 * group's committed offset; each batch of new events reacted to with the pure workflow of
 * domain/fulfilment, its payment calls made (orders concurrently), and the commands, retries
 * and dead letters returned to be appended with the consumed offsets in one transaction.
 */
export class FulfilmentOwner implements PartitionWork<DeadlineSweep> {
  private book = new OrderBook();
  /** Orders whose deadline cancellation is already in the log (its command id is stable). */
  private deadlineSent = new Set<string>();
  /** The first offset not folded: records below it were reacted to by an earlier owner. */
  private next = 0n;

  constructor(private readonly options: FulfilmentOwnerOptions) {}

  async rebuild(): Promise<void> {
    const { kafka, groupId, ordersTopic, partition, logger } = this.options;
    const started = Date.now();
    const where = { topic: ordersTopic, partition };
    const admin = kafka.admin();
    let committed: bigint;
    try {
      const offsets = await admin.groupOffsets(groupId, [ordersTopic]);
      committed = offsets.find((o) => o.partition === partition)?.offset ?? 0n;
    } finally {
      await admin.close();
    }
    const book = new OrderBook();
    const folded = await readToEnd(
      kafka,
      [where],
      ({ records }) => {
        const changes = new Map<string, TrackedOrder>();
        for (const record of records) this.foldQuietly(book, record, changes);
        book.apply(changes);
      },
      new Map([[partitionKey(where), committed]]),
    );
    this.book = book;
    this.deadlineSent = new Set();
    this.next = committed;
    logger.info(
      { partition, folded, orders: book.size, ms: Date.now() - started },
      'saga owner ready',
    );
  }

  /** Folds a record; an undecodable one is skipped (logged): it can never be read. */
  private foldQuietly(
    book: OrderBook,
    record: ConsumedRecord,
    changes: Map<string, TrackedOrder>,
  ): FoldedEvent | undefined {
    try {
      return book.fold(record, changes);
    } catch (err) {
      this.options.logger.error(
        { err, partition: record.partition, offset: String(record.offset) },
        'undecodable order event skipped',
      );
      return undefined;
    }
  }

  async decide(entries: Entry<DeadlineSweep>[]): Promise<Decided<DeadlineSweep>> {
    const { retry, deadlineMs, payments } = this.options;
    const changes = new Map<string, TrackedOrder>();
    const outbox = new Outbox(retry);
    const owed: OwedPayment[] = [];
    /** Orders this batch cancels for their deadline (by a reaction or the sweep). */
    const deadlineCancels = new Set<string>();
    let next = this.next;
    let sweep = false;
    /** Orders this batch saw end (confirmed, cancelled, …), for the saga outcome counter. */
    const settled: string[] = [];
    /** One span per event reacted to, continuing the trace of the command that wrote it. */
    const spans: Span[] = [];
    for (const entry of entries) {
      if ('local' in entry) {
        sweep = true;
        continue;
      }
      const { record } = entry;
      if (record.offset < this.next) continue; // already folded by the rebuild
      next = record.offset + 1n;
      const folded = this.foldQuietly(this.book, record, changes);
      if (!folded) continue;
      const [before, after] = [folded.before.state, folded.after.state];
      if (after.exists && isSettled(after) && !(before.exists && before.status === after.status))
        settled.push(after.status);
      const actions = fulfilmentWorkflow.react(folded.before, folded.recorded, {
        now: Date.now(),
        deadlineMs,
      });
      const { orderId } = folded.recorded.event;
      const span = startConsumerSpan(
        TRACERS.sagas,
        `react ${folded.recorded.event.type}`,
        folded.trace,
        {
          'orderstream.order_id': orderId,
        },
      );
      spans.push(span);
      const trace = contextWith(span);
      for (const action of actions) {
        if (action.kind !== 'command') {
          owed.push({ request: firstAttempt(action), correlationId: folded.correlationId, trace });
          continue;
        }
        context.with(trace, () => outbox.action(action, folded.correlationId));
        if (action.commandId === deadlineCommandId(orderId)) deadlineCancels.add(orderId);
      }
    }
    const overdue = sweep
      ? overdueOrders(this.book.pendingOrders(changes), Date.now(), deadlineMs).filter(
          (a) =>
            !this.deadlineSent.has(a.command.orderId) && !deadlineCancels.has(a.command.orderId),
        )
      : [];
    for (const action of overdue) {
      outbox.action(action, action.commandId);
      deadlineCancels.add(action.command.orderId);
    }
    try {
      await settleAll(owed, payments, outbox);
    } finally {
      for (const span of spans) endSpan(span);
    }
    return {
      records: outbox.records,
      committed: () => {
        this.book.apply(changes);
        this.next = next;
        for (const [orderId, order] of changes)
          if (order.state.exists && order.state.status !== 'pending')
            this.deadlineSent.delete(orderId);
        for (const orderId of deadlineCancels) this.deadlineSent.add(orderId);
        for (const outcome of settled) sagaOutcomes.inc({ outcome });
        if (overdue.length > 0)
          this.options.logger.info(
            { partition: this.options.partition, cancelled: overdue.length },
            'orders past their deadline cancelled',
          );
      },
      failed: () => undefined,
    };
  }

  poison(entry: Entry<DeadlineSweep>): Decided<DeadlineSweep> {
    // Nothing to append: the event is passed over (the runtime logged why), its order left to
    // the deadline sweep.
    const next = 'record' in entry ? entry.record.offset + 1n : this.next;
    return {
      records: [],
      committed: () => {
        if (next > this.next) this.next = next;
      },
      failed: () => undefined,
    };
  }

  abandon(): void {
    // A sweep not run: the next one comes within the sweep interval.
  }
}
