import type { Money } from './decider';
import { show } from './validation';

export type { Money };

/** ISO 4217 style: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

export const isCurrency = (value: unknown): value is string =>
  typeof value === 'string' && CURRENCY_PATTERN.test(value);

/** Minor units are whole and non-negative; safe integers so sums stay exact. */
export const isMinorUnits = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

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
