import { evolveOrder, initialOrderState, type OrderEvent } from '../domain';
import type { TrackedOrder } from '../domain/fulfilment/saga';
import type { ConsumedRecord } from '../lib/kafka';
import { decodeEvent } from '../schemas/codec';

/** One order event folded: the order before and after it, and what the event says of itself. */
export interface FoldedEvent {
  event: OrderEvent;
  before: TrackedOrder;
  after: TrackedOrder;
  occurredAt: number;
  correlationId: string;
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
    const occurredAt = Date.parse(meta.occurredAt);
    const before = changes.get(event.orderId) ??
      this.orders.get(event.orderId) ?? { state: initialOrderState, placedAt: occurredAt };
    const after = {
      state: evolveOrder(before.state, event),
      placedAt: event.type === 'OrderPlaced' ? occurredAt : before.placedAt,
    };
    changes.set(event.orderId, after);
    return { event, before, after, occurredAt, correlationId: meta.correlationId };
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
