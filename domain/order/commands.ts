import type { Money } from '../money';

export const ORDER_COMMAND_TYPES = [
  'PlaceOrder',
  'RecordStockReserved',
  'RecordStockRejected',
  'RecordPaymentAuthorized',
  'RecordPaymentFailed',
  'ConfirmOrder',
  'ShipOrder',
  'DeliverOrder',
  'CancelOrder',
  'ReturnOrder',
] as const;

export type OrderCommandType = (typeof ORDER_COMMAND_TYPES)[number];

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: Money;
}

/** 1..100 lines, one currency, a product at most once. */
export interface PlaceOrder {
  type: 'PlaceOrder';
  orderId: string;
  customerId: string;
  lines: OrderLine[];
}

export interface RecordStockReserved {
  type: 'RecordStockReserved';
  orderId: string;
  productId: string;
}

export interface RecordStockRejected {
  type: 'RecordStockRejected';
  orderId: string;
  productId: string;
  reason: string;
}

export interface RecordPaymentAuthorized {
  type: 'RecordPaymentAuthorized';
  orderId: string;
  paymentId: string;
  amount: Money;
}

export interface RecordPaymentFailed {
  type: 'RecordPaymentFailed';
  orderId: string;
  reason: string;
}

export interface ConfirmOrder {
  type: 'ConfirmOrder';
  orderId: string;
}

/** Absent trackingNumber may be undefined (JSON) or null (Avro). */
export interface ShipOrder {
  type: 'ShipOrder';
  orderId: string;
  trackingNumber?: string | null;
}

export interface DeliverOrder {
  type: 'DeliverOrder';
  orderId: string;
}

export interface CancelOrder {
  type: 'CancelOrder';
  orderId: string;
  reason: string;
  /** Set when a customer asks: the order must be theirs (another's is "not found"). */
  customerId?: string | null;
}

export interface ReturnOrder {
  type: 'ReturnOrder';
  orderId: string;
  reason: string;
  /** Set when a customer asks: the order must be theirs (another's is "not found"). */
  customerId?: string | null;
}

export type OrderCommand =
  | PlaceOrder
  | RecordStockReserved
  | RecordStockRejected
  | RecordPaymentAuthorized
  | RecordPaymentFailed
  | ConfirmOrder
  | ShipOrder
  | DeliverOrder
  | CancelOrder
  | ReturnOrder;
