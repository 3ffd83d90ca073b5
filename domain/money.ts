import { type Decision, type Money, reject } from './decider';
import { show } from './validation';

export type { Money };

/** ISO 4217 style: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

export const isCurrency = (value: unknown): value is string =>
  typeof value === 'string' && CURRENCY_PATTERN.test(value);

/**
 * The largest amount of money the system takes, in minor units: 10^13 (100 billion euros).
 * A price, an order line's total (unit price × quantity) and an order's total all stay within
 * it, so a sum of even 100 of them is an exact integer far below 2^53, and every amount fits
 * an Avro `long` as avsc writes one (at most 2^53 − 2).
 */
export const MAX_MINOR_UNITS = 10_000_000_000_000;

/** Minor units are whole and non-negative; MAX_MINOR_UNITS is a separate check (amountTooLarge). */
export const isMinorUnits = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** Why `amount` (of what `label` names) is above MAX_MINOR_UNITS, as a sentence; null when within. */
export function amountTooLarge(amount: number, label: string): string | null {
  if (amount <= MAX_MINOR_UNITS) return null;
  return `${label} of ${amount} minor units is above the largest amount, ${MAX_MINOR_UNITS}`;
}

/** The typed refusal of an amount above MAX_MINOR_UNITS (invalid → 422). */
export const amountTooLargeRejection = <E>(reason: string): Decision<E> =>
  reject('invalid', 'amount_too_large', reason);

/** Why `value` is not valid Money, as a sentence naming `label`; null when it is. */
export function moneyProblem(value: unknown, label = 'amount'): string | null {
  if (typeof value !== 'object' || value === null) {
    return `${label} must be an object with amount and currency`;
  }
  const { amount, currency } = value as Partial<Record<keyof Money, unknown>>;
  if (!isMinorUnits(amount)) {
    return `${label} amount must be a whole number of minor units ≥ 0, got ${show(amount)}`;
  }
  if (!isCurrency(currency)) {
    return `${label} currency must be three upper-case letters, got ${show(currency)}`;
  }
  return null;
}

export const isMoney = (value: unknown): value is Money => moneyProblem(value) === null;

/** A fresh plain copy: events must not carry extra fields a caller left on its input. */
export const money = (amount: number, currency: string): Money => ({ amount, currency });

export const copyMoney = (value: Money): Money => money(value.amount, value.currency);

export const sameMoney = (a: Money, b: Money): boolean =>
  a.amount === b.amount && a.currency === b.currency;

/** For rejection reasons, e.g. "1999 EUR" (minor units). */
export const formatMoney = (value: Money): string => `${value.amount} ${value.currency}`;

/**
 * A product keeps the currency it was created in: why `price` cannot replace `current` (of what
 * `label` names, e.g. `product p-1`), as a sentence; null when it can.
 */
export function currencyMismatch(price: Money, current: Money, label: string): string | null {
  if (price.currency === current.currency) return null;
  return `price is in ${price.currency} but ${label} is priced in ${current.currency}`;
}
