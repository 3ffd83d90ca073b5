import type { Money } from '../money';

export const PRODUCT_EVENT_TYPES = [
  'ProductCreated',
  'ProductDetailsUpdated',
  'ProductPriceChanged',
  'ProductRestocked',
  'StockReserved',
  'ReservationReleased',
  'ReservationCommitted',
  'ProductDiscontinued',
] as const;

export type ProductEventType = (typeof PRODUCT_EVENT_TYPES)[number];

// Events are plain JSON-able data (Avro-serialised): no undefined, Dates or Maps.

export interface ProductCreated {
  type: 'ProductCreated';
  productId: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price: Money;
  initialStock: number;
}

/** Carries all three details (the new values), so readers need no earlier event. */
export interface ProductDetailsUpdated {
  type: 'ProductDetailsUpdated';
  productId: string;
  name: string;
  description: string;
  category: string;
}

export interface ProductPriceChanged {
  type: 'ProductPriceChanged';
  productId: string;
  price: Money;
  previousPrice: Money;
}

export interface ProductRestocked {
  type: 'ProductRestocked';
  productId: string;
  quantity: number;
  /** Units available after the restock. */
  available: number;
}

export interface StockReserved {
  type: 'StockReserved';
  productId: string;
  orderId: string;
  quantity: number;
  /** Units available after the reservation. */
  available: number;
}

export interface ReservationReleased {
  type: 'ReservationReleased';
  productId: string;
  orderId: string;
  quantity: number;
  /** Units available after the release. */
  available: number;
}

/** The reserved units leave with the shipment; `available` is unchanged. */
export interface ReservationCommitted {
  type: 'ReservationCommitted';
  productId: string;
  orderId: string;
  quantity: number;
}

export interface ProductDiscontinued {
  type: 'ProductDiscontinued';
  productId: string;
}

export type ProductEvent =
  | ProductCreated
  | ProductDetailsUpdated
  | ProductPriceChanged
  | ProductRestocked
  | StockReserved
  | ReservationReleased
  | ReservationCommitted
  | ProductDiscontinued;
