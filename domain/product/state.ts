import type { Money } from '../money';

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
  /** The most units one order may reserve; null when unlimited. */
  readonly purchaseLimit: number | null;
}

/** Plain data throughout, so a state can be snapshotted as JSON. */
export type ProductState = { readonly exists: false } | Product;

export const initialProductState: ProductState = Object.freeze({ exists: false });

// Reservations are rebuilt with Object.fromEntries, which defines own properties: plain
// assignment would let an orderId such as "__proto__" set the prototype instead.

/** The reservations without `orderId`; a fresh object, the input is left alone. */
export const without = (
  reservations: Readonly<Record<string, number>>,
  orderId: string,
): Record<string, number> =>
  Object.fromEntries(Object.entries(reservations).filter(([id]) => id !== orderId));

/** The reservations with `orderId` holding `quantity`. */
export const holding = (
  reservations: Readonly<Record<string, number>>,
  orderId: string,
  quantity: number,
): Record<string, number> =>
  Object.fromEntries([...Object.entries(without(reservations, orderId)), [orderId, quantity]]);
