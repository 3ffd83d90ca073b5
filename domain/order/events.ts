import type { Money } from '../money';
import type { OrderLine } from './commands';

export const ORDER_EVENT_TYPES = [
  'OrderPlaced',
  'OrderStockReserved',
  'OrderStockRejected',
  'OrderPaymentAuthorized',
  'OrderPaymentFailed',
  'OrderConfirmed',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'OrderReturned',
] as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

// Events are plain JSON-able data (Avro-serialised): no undefined, Dates or Maps.

export interface OrderPlaced {
  type: 'OrderPlaced';
  orderId: string;
  customerId: string;
  lines: OrderLine[];
  /** Sum of quantity × unitPrice.amount, in the lines' currency. */
  total: Money;
}

export interface OrderStockReserved {
  type: 'OrderStockReserved';
  orderId: string;
  customerId: string;
  productId: string;
}

export interface OrderStockRejected {
  type: 'OrderStockRejected';
  orderId: string;
  customerId: string;
  productId: string;
  reason: string;
}

export interface OrderPaymentAuthorized {
  type: 'OrderPaymentAuthorized';
  orderId: string;
  customerId: string;
  paymentId: string;
  amount: Money;
}

export interface OrderPaymentFailed {
  type: 'OrderPaymentFailed';
  orderId: string;
  customerId: string;
  reason: string;
}

/** Stock reserved and payment authorized. The payment is given when it confirmed the order
 *  (absent on orders confirmed by a ConfirmOrder after an OrderPaymentAuthorized). */
export interface OrderConfirmed {
  type: 'OrderConfirmed';
  orderId: string;
  customerId: string;
  /** Null (or absent, in code written before v2) when no payment came with it. */
  paymentId?: string | null;
  amount?: Money | null;
}

export interface OrderShipped {
  type: 'OrderShipped';
  orderId: string;
  customerId: string;
  trackingNumber: string | null;
}

export interface OrderDelivered {
  type: 'OrderDelivered';
  orderId: string;
  customerId: string;
}

export interface OrderCancelled {
  type: 'OrderCancelled';
  orderId: string;
  customerId: string;
  reason: string;
}

export interface OrderReturned {
  type: 'OrderReturned';
  orderId: string;
  customerId: string;
  reason: string;
}

export type OrderEvent =
  | OrderPlaced
  | OrderStockReserved
  | OrderStockRejected
  | OrderPaymentAuthorized
  | OrderPaymentFailed
  | OrderConfirmed
  | OrderShipped
  | OrderDelivered
  | OrderCancelled
  | OrderReturned;
