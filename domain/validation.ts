/** Runtime checks for values from outside (HTTP, Kafka): the decider is the last line. */

/** A string with something other than whitespace in it. */
export const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.trim().length > 0;

export const isString = (value: unknown): value is string => typeof value === 'string';

/** Counts (quantities, stock) are Avro `int` on the wire: 32-bit signed. */
export const MAX_COUNT = 2_147_483_647;

/** A whole number from 0 to MAX_COUNT. */
export const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_COUNT;

/** A whole number ≥ 1. */
export const isPositiveCount = (value: unknown): value is number => isCount(value) && value >= 1;

/** Optional command fields may arrive as undefined (JSON) or null (Avro). */
export const isAbsent = (value: unknown): value is undefined | null =>
  value === undefined || value === null;

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** For reasons: show what arrived without risking an exception. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
