import type { Request, Response } from 'express';
import { z } from 'zod';
import { parseInput } from '../../lib/http/validation';

/** Query-string parameters of the query API; unknown ones are refused so typos do not pass. */

/** `limit`: a whole number from 1 to `max`, `fallback` when absent. */
export const limitParam = (fallback: number, max = 100) =>
  z
    .string()
    .regex(/^\d{1,6}$/, `expected a whole number from 1 to ${max}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `expected a whole number from 1 to ${max}`)
    .optional()
    .transform((n) => n ?? fallback);

/** A price bound in minor units (kept as a decimal string: the column is a bigint). */
export const priceParam = z
  .string()
  .regex(/^\d{1,16}$/, 'expected a whole number of minor units (cents), 0 or more')
  .transform((s, ctx) => {
    // Runs only once the regex passed, so BigInt cannot throw here.
    const value = BigInt(s);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      ctx.addIssue({ code: 'custom', message: 'too large' });
      return z.NEVER;
    }
    return value.toString();
  });

/** An opaque cursor this API returned, decoded by `decode`. */
export const cursorParam = <T>(decode: (cursor: string) => T | undefined) =>
  z.string().transform((value, ctx): T => {
    const cursor = decode(value);
    if (cursor === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'not a cursor this listing returned (pass nextCursor back unchanged)',
      });
      return z.NEVER;
    }
    return cursor;
  });

/**
 * The request's query parameters parsed by `schema`, or undefined after answering 400 with a
 * problem naming every parameter at fault.
 */
export function parseQuery<T extends z.ZodType>(
  schema: T,
  req: Request,
  res: Response,
): z.infer<T> | undefined {
  return parseInput(schema, { ...req.query }, res, {
    whole: '(query)',
    unknownKey: 'unknown query parameter',
  });
}
