import { copyMoney, type Money } from '../money';
import { lookup } from '../validation';
import type { ProductEvent } from './events';

export interface Product {
  readonly exists: true;
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
  readonly price: Money;
  /** Units that can still be reserved; never below zero. */
  readonly available: number;
  /** orderId → units held for that order (out of `available` until released or committed). */
  readonly reservations: Readonly<Record<string, number>>;
  readonly discontinued: boolean;
}

/** Plain data throughout, so a state can be snapshotted as JSON. */
export type ProductState = { readonly exists: false } | Product;

export const initialProductState: ProductState = Object.freeze({ exists: false });

// Reservations are rebuilt with Object.fromEntries, which defines own properties: plain
// assignment would let an orderId such as "__proto__" set the prototype instead.

/** The reservations without `orderId`; a fresh object, the input is left alone. */
const without = (
  reservations: Readonly<Record<string, number>>,
  orderId: string,
): Record<string, number> =>
  Object.fromEntries(Object.entries(reservations).filter(([id]) => id !== orderId));

/** The reservations with `orderId` holding `quantity`. */
const holding = (
  reservations: Readonly<Record<string, number>>,
  orderId: string,
  quantity: number,
): Record<string, number> =>
  Object.fromEntries([...Object.entries(without(reservations, orderId)), [orderId, quantity]]);

/** The state after `event`: always a new object, never a mutation of `state`. */
export function evolveProduct(state: ProductState, event: ProductEvent): ProductState {
  if (event.type === 'ProductCreated') {
    return {
      exists: true,
      productId: event.productId,
      sku: event.sku,
      name: event.name,
      description: event.description,
      category: event.category,
      price: copyMoney(event.price),
      available: event.initialStock,
      reservations: {},
      discontinued: false,
    };
  }
  // Only ProductCreated can begin a stream; anything else before it is ignored.
  if (!state.exists) return state;
  switch (event.type) {
    case 'ProductDetailsUpdated':
      return {
        ...state,
        name: event.name,
        description: event.description,
        category: event.category,
      };
    case 'ProductPriceChanged':
      return { ...state, price: copyMoney(event.price) };
    case 'ProductRestocked':
      return { ...state, available: state.available + event.quantity };
    case 'StockReserved': {
      // decide never replaces a reservation, but if a stream did, the old units come back.
      const previous = lookup(state.reservations, event.orderId) ?? 0;
      return {
        ...state,
        available: state.available + previous - event.quantity,
        reservations: holding(state.reservations, event.orderId, event.quantity),
      };
    }
    case 'ReservationReleased':
      return {
        ...state,
        available: state.available + event.quantity,
        reservations: without(state.reservations, event.orderId),
      };
    case 'ReservationCommitted':
      return { ...state, reservations: without(state.reservations, event.orderId) };
    case 'ProductDiscontinued':
      return { ...state, discontinued: true };
  }
}
