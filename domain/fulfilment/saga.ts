/** The order-fulfilment saga (DESIGN §6) as a pure state machine: order events in, actions out.
 *  No I/O and no clock: the caller passes `now`. It reads the order only as `evolveOrder` builds
 *  it, so the order's own rules stay in the order decider. */
import { copyMoney } from '../money';
import type { CancelOrder } from '../order/commands';
import type { OrderEvent } from '../order/events';
import type { Order, OrderState } from '../order/state';
import {
  confirmCommandId,
  deadlineCommandId,
  type FulfilmentAction,
  type OrderCommandAction,
  paymentIdempotencyKey,
  type ReleaseReservationAction,
  type ReserveStockAction,
  refundPayment,
  releaseCommandId,
  reserveCommandId,
  voidPayment,
} from './actions';

/** One step of the saga: `after = evolveOrder(before, event)`. */
export interface OrderReaction {
  before: OrderState;
  after: OrderState;
  event: OrderEvent;
  /** When the event was recorded (ms since the epoch); for OrderPlaced, when the order was placed. */
  occurredAt: number;
  /** The caller's clock (ms since the epoch). */
  now: number;
  /** How long an order may stay pending after it was placed (ms). */
  deadlineMs: number;
}

/** An order as the deadline sweep needs it: its state and when it was placed (ms since the
 *  epoch, the `occurredAt` of its OrderPlaced). */
export interface TrackedOrder {
  state: OrderState;
  placedAt: number;
}

export type FulfilmentProgress =
  | 'pending_stock'
  | 'pending_payment'
  | 'confirmed'
  | 'cancelled'
  | 'shipped'
  | 'delivered'
  | 'returned';

const isPending = (state: OrderState): state is Order => state.exists && state.status === 'pending';

const allLinesReserved = (order: Order): boolean =>
  order.lines.every((line) => order.stockReserved.includes(line.productId));

/** Pending with every line reserved, none rejected and no word on the payment yet: the state in
 *  which the saga asks for the authorization, and stays while the gateway's answer is unknown
 *  (it may have charged). */
export const isPaymentInDoubt = (state: OrderState): boolean =>
  isPending(state) &&
  allLinesReserved(state) &&
  state.stockRejected.length === 0 &&
  state.payment === null &&
  state.paymentFailure === null;

/** Settled: confirmed, cancelled, shipped, delivered or returned (an absent order is not). */
export const isSettled = (state: OrderState): boolean => state.exists && state.status !== 'pending';

/** Strictly later than placedAt + deadlineMs. */
const isPastDeadline = (placedAt: number, now: number, deadlineMs: number): boolean =>
  now > placedAt + deadlineMs;

export const deadlineReason = (deadlineMs: number): string =>
  `deadline passed: not settled within ${deadlineMs / 1000} s`;

function orderCommand(
  command: OrderCommandAction['command'],
  commandId: string,
): OrderCommandAction {
  return { kind: 'command', aggregate: 'order', command, commandId };
}

function cancel(orderId: string, reason: string, commandId: string): OrderCommandAction {
  const command: CancelOrder = { type: 'CancelOrder', orderId, reason };
  return orderCommand(command, commandId);
}

const deadlineCancel = (orderId: string, deadlineMs: number): OrderCommandAction =>
  cancel(orderId, deadlineReason(deadlineMs), deadlineCommandId(orderId));

/** Every line whose stock may be held for the order: all but those the product refused. */
function releases(order: Order): ReleaseReservationAction[] {
  return order.lines
    .filter((line) => !order.stockRejected.some((r) => r.productId === line.productId))
    .map(
      (line): ReleaseReservationAction => ({
        kind: 'command',
        aggregate: 'product',
        command: { type: 'ReleaseReservation', productId: line.productId, orderId: order.orderId },
        commandId: releaseCommandId(order.orderId, line.productId),
      }),
    );
}

/** What the saga asks for after one order event. Deterministic: the same input always gives the
 *  same actions with the same ids. The order decides its own confirmation (a payment that
 *  completes a reserved order) and cancellation (a refused line, a failed payment): the saga
 *  only reserves, asks for the payment, and compensates a cancellation. */
export function reactToOrderEvent(input: OrderReaction): FulfilmentAction[] {
  const { before, after, event } = input;
  if (!after.exists) return [];
  const { orderId } = after;
  switch (event.type) {
    case 'OrderPlaced': {
      if (!isPending(after)) return [];
      // Seen too late (e.g. the saga was down): give up instead of reserving.
      if (isPastDeadline(input.occurredAt, input.now, input.deadlineMs)) {
        return [deadlineCancel(orderId, input.deadlineMs)];
      }
      return after.lines.map(
        (line): ReserveStockAction => ({
          kind: 'command',
          aggregate: 'product',
          command: {
            type: 'ReserveStock',
            productId: line.productId,
            orderId,
            quantity: line.quantity,
          },
          commandId: reserveCommandId(orderId, line.productId),
        }),
      );
    }
    case 'OrderStockReserved': {
      // Not once the order has left pending or has a word on the payment: no money twice.
      if (!isPaymentInDoubt(after)) return [];
      return [
        {
          kind: 'authorize-payment',
          orderId,
          customerId: after.customerId,
          amount: copyMoney(after.total),
          idempotencyKey: paymentIdempotencyKey(orderId),
          attempt: 1,
        },
      ];
    }
    case 'OrderPaymentAuthorized':
      // Authorized after the order was cancelled (the gateway answered late): give it back.
      if (after.exists && after.status === 'cancelled')
        return [refundPayment(orderId, event.paymentId)];
      // Recorded before payments confirmed orders themselves: confirm it as the saga did then.
      if (isPending(after) && allLinesReserved(after))
        return [orderCommand({ type: 'ConfirmOrder', orderId }, confirmCommandId(orderId))];
      return [];
    case 'OrderCancelled': {
      // Lines reserved, or whose reservation is still in flight (the product takes its
      // commands in order, so the release comes after it); releasing what is not held is a
      // no-op at the product.
      const release: FulfilmentAction[] = releases(after);
      const payment = before.exists ? before.payment : null;
      if (payment) return [...release, refundPayment(orderId, payment.paymentId)];
      // The authorization was asked for and never answered: the gateway may have charged (and
      // a retry may still charge). Void it by its key rather than wait for an answer.
      if (isPaymentInDoubt(before)) return [...release, voidPayment(orderId)];
      return release;
    }
    // Nothing to do: a refused line and a failed payment cancel the order in the same decision
    // (its OrderCancelled follows); OrderConfirmed is the end of fulfilment. (OrderReturned
    // could refund the payment; returns are not refunded by the saga yet.)
    case 'OrderStockRejected':
    case 'OrderPaymentFailed':
    case 'OrderConfirmed':
    case 'OrderShipped':
    case 'OrderDelivered':
    case 'OrderReturned':
      return [];
  }
}

/** The periodic deadline sweep: CancelOrder for every pending order placed more than
 *  `deadlineMs` before `now` (settled and absent orders are skipped). */
export function overdueOrders(
  orders: Iterable<readonly [orderId: string, order: TrackedOrder]>,
  now: number,
  deadlineMs: number,
): OrderCommandAction[] {
  const actions: OrderCommandAction[] = [];
  for (const [, { state, placedAt }] of orders) {
    if (isPending(state) && isPastDeadline(placedAt, now, deadlineMs)) {
      actions.push(deadlineCancel(state.orderId, deadlineMs));
    }
  }
  return actions;
}

/** Where an order stands in fulfilment; null when it does not exist. */
export function fulfilmentProgress(state: OrderState): FulfilmentProgress | null {
  if (!state.exists) return null;
  if (state.status === 'pending') {
    return allLinesReserved(state) ? 'pending_payment' : 'pending_stock';
  }
  return state.status;
}
