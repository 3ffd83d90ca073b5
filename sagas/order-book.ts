import type { OrderEvent } from '../domain';
import type { TrackedOrder } from '../domain/fulfilment/saga';
import { fulfilmentWorkflow, type RecordedOrderEvent } from '../domain/fulfilment/workflow';
import type { ConsumedRecord } from '../lib/kafka';
import type { TraceHeaders } from '../lib/telemetry/trace-context';
import { decodeEvent } from '../schemas/codec';

/** One order event folded: the order before and after it, and what the event says of itself. */
export interface FoldedEvent {
  recorded: RecordedOrderEvent;
  before: TrackedOrder;
  after: TrackedOrder;
  correlationId: string;
  /** The trace of the command that wrote the event (the saga's reaction continues it). */
  trace: TraceHeaders;
}

/**
 * The saga's view of the orders of one partition of the order events, folded from their events.
 * Changes of a batch are made on the side (`changes`) and kept only once its transaction has
 * committed, so a failed batch leaves the book as the log has it.
 */
export class OrderBook {
  private readonly orders = new Map<string, TrackedOrder>();
  /** Orders still pending: what the deadline sweep looks at. */
  private readonly pending = new Set<string>();

  get size(): number {
    return this.orders.size;
  }

  /** Folds an order event into `changes` (over the book); throws on an undecodable record. */
  fold(record: ConsumedRecord, changes: Map<string, TrackedOrder>): FoldedEvent {
    const { event, meta } = decodeEvent<OrderEvent>(record);
    const recorded: RecordedOrderEvent = { event, occurredAt: Date.parse(meta.occurredAt) };
    const before =
      changes.get(event.orderId) ??
      this.orders.get(event.orderId) ??
      fulfilmentWorkflow.initialState;
    const after = fulfilmentWorkflow.evolve(before, recorded);
    changes.set(event.orderId, after);
    return { recorded, before, after, correlationId: meta.correlationId, trace: meta };
  }

  /** Keeps a committed batch's changes. */
  apply(changes: Map<string, TrackedOrder>): void {
    for (const [orderId, order] of changes) {
      this.orders.set(orderId, order);
      if (order.state.exists && order.state.status === 'pending') this.pending.add(orderId);
      else this.pending.delete(orderId);
    }
  }

  /** The pending orders, as they stand after `changes`. */
  *pendingOrders(changes: Map<string, TrackedOrder>): Iterable<[string, TrackedOrder]> {
    for (const orderId of this.pending) {
      if (changes.has(orderId)) continue;
      const order = this.orders.get(orderId);
      if (order) yield [orderId, order];
    }
    yield* changes;
  }
}
