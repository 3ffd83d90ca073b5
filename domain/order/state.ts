import { copyMoney, type Money } from '../money';
import type { OrderLine } from './commands';
import type { OrderEvent } from './events';

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'shipped',
  'delivered',
  'returned',
  'cancelled',
] as const;

/** pending → confirmed → shipped → delivered → returned; cancelled from pending or confirmed. */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface PaymentAuthorization {
  readonly paymentId: string;
  readonly amount: Money;
}

export interface StockRejection {
  readonly productId: string;
  readonly reason: string;
}

export interface Order {
  readonly exists: true;
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly Readonly<OrderLine>[];
  readonly total: Money;
  readonly status: OrderStatus;
  /** Products whose stock is recorded as reserved, in the order recorded. */
  readonly stockReserved: readonly string[];
  readonly stockRejected: readonly StockRejection[];
  /** The latest word on payment wins: an authorization clears a failure and vice versa. */
  readonly payment: PaymentAuthorization | null;
  readonly paymentFailure: string | null;
  readonly trackingNumber: string | null;
  readonly cancelReason: string | null;
  readonly returnReason: string | null;
}

/** Plain data throughout, so a state can be snapshotted as JSON. */
export type OrderState = { readonly exists: false } | Order;

export const initialOrderState: OrderState = Object.freeze({ exists: false });

const copyLine = (line: OrderLine): OrderLine => ({
  productId: line.productId,
  quantity: line.quantity,
  unitPrice: copyMoney(line.unitPrice),
});

/** The state after `event`: always a new object, never a mutation of `state`. */
export function evolveOrder(state: OrderState, event: OrderEvent): OrderState {
  if (event.type === 'OrderPlaced') {
    return {
      exists: true,
      orderId: event.orderId,
      customerId: event.customerId,
      lines: event.lines.map(copyLine),
      total: copyMoney(event.total),
      status: 'pending',
      stockReserved: [],
      stockRejected: [],
      payment: null,
      paymentFailure: null,
      trackingNumber: null,
      cancelReason: null,
      returnReason: null,
    };
  }
  // Only OrderPlaced can begin a stream; anything else before it is ignored.
  if (!state.exists) return state;
  switch (event.type) {
    case 'OrderStockReserved':
      return {
        ...state,
        stockReserved: state.stockReserved.includes(event.productId)
          ? state.stockReserved
          : [...state.stockReserved, event.productId],
      };
    case 'OrderStockRejected':
      return {
        ...state,
        stockRejected: [
          ...state.stockRejected.filter((r) => r.productId !== event.productId),
          { productId: event.productId, reason: event.reason },
        ],
      };
    case 'OrderPaymentAuthorized':
      return {
        ...state,
        payment: { paymentId: event.paymentId, amount: copyMoney(event.amount) },
        paymentFailure: null,
      };
    case 'OrderPaymentFailed':
      return { ...state, payment: null, paymentFailure: event.reason };
    case 'OrderConfirmed':
      return event.paymentId && event.amount
        ? {
            ...state,
            status: 'confirmed',
            payment: { paymentId: event.paymentId, amount: copyMoney(event.amount) },
            paymentFailure: null,
          }
        : { ...state, status: 'confirmed' };
    case 'OrderShipped':
      return { ...state, status: 'shipped', trackingNumber: event.trackingNumber };
    case 'OrderDelivered':
      return { ...state, status: 'delivered' };
    case 'OrderCancelled':
      return { ...state, status: 'cancelled', cancelReason: event.reason };
    case 'OrderReturned':
      return { ...state, status: 'returned', returnReason: event.reason };
  }
}
