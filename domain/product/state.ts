import { Map as PersistentMap } from 'immutable';
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
  readonly reservations: Reservations;
  readonly discontinued: boolean;
  /** The most units one order may reserve; null when unlimited. */
  readonly purchaseLimit: number | null;
}

/**
 * Held until the order's units are committed (shipped) or released, so a selling product holds
 * one per open order: a persistent map, so that reserving shares the others instead of copying
 * them (a copy per reservation made a hot product's owner slower with every order it held).
 * `productStateJson` writes it into a snapshot and reads it back.
 */
export type Reservations = PersistentMap<string, number>;

export const noReservations: Reservations = PersistentMap();

/** Plain data but the reservations, which `productStateJson` writes as such for snapshots. */
export type ProductState = { readonly exists: false } | Product;

export const initialProductState: ProductState = Object.freeze({ exists: false });

/** The reservations without `orderId`; the input is left alone. */
export const without = (reservations: Reservations, orderId: string): Reservations =>
  reservations.delete(orderId);

/** The reservations with `orderId` holding `quantity`; the input is left alone. */
export const holding = (
  reservations: Reservations,
  orderId: string,
  quantity: number,
): Reservations => reservations.set(orderId, quantity);

/**
 * A state in JSON (a snapshot) and back. The reservations are written as an object of
 * orderId → units with own properties (Object.fromEntries), so an orderId such as
 * "__proto__" stays a key where plain assignment would set the prototype instead.
 */
export const productStateJson = {
  toJson: (state: ProductState): unknown =>
    state.exists ? { ...state, reservations: Object.fromEntries(state.reservations) } : state,
  fromJson: (json: unknown): ProductState => {
    const state = json as ProductState | (Omit<Product, 'reservations'> & { reservations: object });
    if (!state.exists) return state;
    return { ...state, reservations: PersistentMap(Object.entries(state.reservations)) };
  },
};
