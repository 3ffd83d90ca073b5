/** The order-fulfilment saga as a Workflow (domain/decider.ts): what the sagas process runs. */
import type { Workflow } from '../decider';
import type { OrderEvent } from '../order/events';
import { evolveOrder, initialOrderState } from '../order/state';
import type { FulfilmentAction } from './actions';
import { reactToOrderEvent, type TrackedOrder } from './saga';

/** An order event as the saga reads it from the log: with when it was recorded (ms). */
export interface RecordedOrderEvent {
  event: OrderEvent;
  occurredAt: number;
}

/** What the saga cannot learn from the events: the clock and the deadline setting. */
export interface FulfilmentContext {
  /** The caller's clock (ms since the epoch). */
  now: number;
  /** How long an order may stay pending after it was placed (ms). */
  deadlineMs: number;
}

/**
 * One order's fulfilment: `evolve` folds its events into the order as `evolveOrder` builds it
 * (and when it was placed, for the deadline); `react(before, event, context)` gives the
 * actions the event calls for (saga.ts `reactToOrderEvent`).
 */
export const fulfilmentWorkflow: Workflow<
  RecordedOrderEvent,
  TrackedOrder,
  FulfilmentAction,
  FulfilmentContext
> = {
  initialState: { state: initialOrderState, placedAt: 0 },
  evolve: (order, { event, occurredAt }) => ({
    state: evolveOrder(order.state, event),
    placedAt: event.type === 'OrderPlaced' ? occurredAt : order.placedAt,
  }),
  react: (before, input, context) =>
    reactToOrderEvent({
      before: before.state,
      after: evolveOrder(before.state, input.event),
      event: input.event,
      occurredAt: input.occurredAt,
      ...context,
    }),
};
