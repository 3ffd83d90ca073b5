/** What the order-fulfilment saga asks for, and the deterministic ids that make it repeatable. */
import type { Money } from '../money';
import type {
  CancelOrder,
  ConfirmOrder,
  RecordPaymentAuthorized,
  RecordPaymentFailed,
  RecordStockRejected,
  RecordStockReserved,
} from '../order/commands';
import type { ReleaseReservation, ReserveStock } from '../product/messages';

/** Reserve a line's stock. Its outcome reaches the order through the product's log: the
 *  StockReserved event or the refusal's reply record, told apart by this command id
 *  (`reservationAsked`, reservations.ts). */
export interface ReserveStockAction {
  kind: 'command';
  aggregate: 'product';
  command: ReserveStock;
  commandId: string;
}

/** Give a line's stock back (a no-op at the product when nothing is held for the order). */
export interface ReleaseReservationAction {
  kind: 'command';
  aggregate: 'product';
  command: ReleaseReservation;
  commandId: string;
}

export type ProductCommandAction = ReserveStockAction | ReleaseReservationAction;

export interface OrderCommandAction {
  kind: 'command';
  aggregate: 'order';
  command:
    | RecordStockReserved
    | RecordStockRejected
    | RecordPaymentAuthorized
    | RecordPaymentFailed
    | ConfirmOrder
    | CancelOrder;
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
/** ConfirmOrder, for an order whose payment was recorded before payments confirmed orders. */
export const confirmCommandId = (orderId: string): string => `saga:${part(orderId)}:confirm`;
/** CancelOrder for an order left pending past the deadline. */
export const deadlineCommandId = (orderId: string): string => `saga:${part(orderId)}:deadline`;
/** RecordPaymentAuthorized / RecordPaymentFailed: one id for both, so only the first word on
 *  the payment is recorded. */
export const paymentOutcomeCommandId = (orderId: string): string => `saga:${part(orderId)}:payment`;
/** RecordStockReserved / RecordStockRejected of a line: one id for both, so only the first word
 *  on the line's reservation is recorded. */
export const stockOutcomeCommandId = (orderId: string, productId: string): string =>
  `saga:${part(orderId)}:stock:${part(productId)}`;
export const paymentIdempotencyKey = (orderId: string): string => `pay:${part(orderId)}`;
export const refundIdempotencyKey = (orderId: string): string => `refund:${part(orderId)}`;

const unpart = (escaped: string): string =>
  escaped.replace(/%(25|3A)/g, (code) => (code === '%25' ? '%' : ':'));

/** The order and product of a `reserveCommandId`, or null for any other id (a reservation made
 *  by hand, another step). Exact: only an id `reserveCommandId` makes is recognised. */
export function parseReserveCommandId(
  commandId: string,
): { orderId: string; productId: string } | null {
  const fields = commandId.split(':');
  if (fields.length !== 4 || fields[0] !== 'saga' || fields[2] !== 'reserve') return null;
  const orderId = unpart(fields[1] ?? '');
  const productId = unpart(fields[3] ?? '');
  if (orderId === '' || productId === '') return null;
  return reserveCommandId(orderId, productId) === commandId ? { orderId, productId } : null;
}

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
