/** What the order-fulfilment saga asks for, and the deterministic ids that make it repeatable. */
import type { Money } from '../money';
import type {
  CancelOrder,
  ConfirmOrder,
  RecordPaymentAuthorized,
  RecordPaymentFailed,
} from '../order/commands';
import type { ReleaseReservation, ReserveStock } from '../product/commands';

/** Reserve a line's stock; the product's owner then sends the order RecordStockReserved /
 *  RecordStockRejected with the outcome (`notifyOrder`). */
export interface ReserveStockAction {
  kind: 'command';
  aggregate: 'product';
  command: ReserveStock;
  commandId: string;
  notifyOrder: true;
}

/** Give a line's stock back (a no-op at the product when nothing is held for the order). */
export interface ReleaseReservationAction {
  kind: 'command';
  aggregate: 'product';
  command: ReleaseReservation;
  commandId: string;
  notifyOrder?: never;
}

export type ProductCommandAction = ReserveStockAction | ReleaseReservationAction;

export interface OrderCommandAction {
  kind: 'command';
  aggregate: 'order';
  command: RecordPaymentAuthorized | RecordPaymentFailed | ConfirmOrder | CancelOrder;
  commandId: string;
}

/** Ask the payment gateway to authorize `amount` (the order total). */
export interface AuthorizePaymentAction {
  kind: 'authorize-payment';
  orderId: string;
  customerId: string;
  amount: Money;
  idempotencyKey: string;
  attempt: 1;
}

/** Ask the payment gateway to give an authorized payment back. */
export interface RefundPaymentAction {
  kind: 'refund-payment';
  orderId: string;
  paymentId: string;
  idempotencyKey: string;
}

/** Ask the payment gateway to void the authorization made, or still to be made, under the
 *  order's payment key: for a cancelled order whose authorize call has no recorded answer. */
export interface VoidPaymentAction {
  kind: 'void-payment';
  orderId: string;
  /** The authorization's key (`paymentIdempotencyKey`), which the void cancels. */
  idempotencyKey: string;
}

export type FulfilmentAction =
  | ProductCommandAction
  | OrderCommandAction
  | AuthorizePaymentAction
  | RefundPaymentAction
  | VoidPaymentAction;

// Ids are built from the order, the step and the product only (never time or randomness), so
// a saga that reacts again after a restart asks for the same things under the same ids and the
// command owners / the gateway absorb the repeats. `%` and `:` inside an id are escaped, so two
// different (orderId, productId) pairs can never produce the same id.
const part = (id: string): string => id.replace(/%/g, '%25').replace(/:/g, '%3A');

export const reserveCommandId = (orderId: string, productId: string): string =>
  `saga:${part(orderId)}:reserve:${part(productId)}`;
export const releaseCommandId = (orderId: string, productId: string): string =>
  `saga:${part(orderId)}:release:${part(productId)}`;
export const confirmCommandId = (orderId: string): string => `saga:${part(orderId)}:confirm`;
/** CancelOrder after a stock rejection or a payment failure. */
export const cancelCommandId = (orderId: string): string => `saga:${part(orderId)}:cancel`;
/** CancelOrder for an order left pending past the deadline. */
export const deadlineCommandId = (orderId: string): string => `saga:${part(orderId)}:deadline`;
/** RecordPaymentAuthorized / RecordPaymentFailed: one id for both, so only the first word on
 *  the payment is recorded. */
export const paymentOutcomeCommandId = (orderId: string): string => `saga:${part(orderId)}:payment`;
export const paymentIdempotencyKey = (orderId: string): string => `pay:${part(orderId)}`;
export const refundIdempotencyKey = (orderId: string): string => `refund:${part(orderId)}`;

/** The gateway's answer to an authorize-payment action. */
export type PaymentOutcome =
  | { authorized: true; paymentId: string; amount: Money }
  | { authorized: false; reason: string };

/** The order command recording the gateway's answer (the saga never invents one itself). */
export function recordPaymentOutcome(orderId: string, outcome: PaymentOutcome): OrderCommandAction {
  const command: RecordPaymentAuthorized | RecordPaymentFailed = outcome.authorized
    ? {
        type: 'RecordPaymentAuthorized',
        orderId,
        paymentId: outcome.paymentId,
        amount: { amount: outcome.amount.amount, currency: outcome.amount.currency },
      }
    : { type: 'RecordPaymentFailed', orderId, reason: outcome.reason };
  return {
    kind: 'command',
    aggregate: 'order',
    command,
    commandId: paymentOutcomeCommandId(orderId),
  };
}

/** Refund a payment. The saga emits it on OrderCancelled when a payment was authorized; the
 *  engine also needs it when the order refuses RecordPaymentAuthorized because it is no longer
 *  pending (cancelled while the gateway was answering), so money is never kept for a dead order.
 *  Same key either way: the gateway refunds at most once. */
export const refundPayment = (orderId: string, paymentId: string): RefundPaymentAction => ({
  kind: 'refund-payment',
  orderId,
  paymentId,
  idempotencyKey: refundIdempotencyKey(orderId),
});

/** Void the order's authorization by its key. The gateway gives back a charge made under the
 *  key and declines any authorize with it from then on, so an authorize call still being
 *  retried can never charge the cancelled order. */
export const voidPayment = (orderId: string): VoidPaymentAction => ({
  kind: 'void-payment',
  orderId,
  idempotencyKey: paymentIdempotencyKey(orderId),
});
