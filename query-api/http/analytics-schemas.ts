import { z } from 'zod';
import { limitParam } from './query-params';

/** The query strings and answers of `GET /analytics/...` (routes parse with them; OpenAPI shows them). */

const MINUTE_MS = 60_000;
/** Longest range of sales-per-minute: a day of minutes. */
const MAX_MINUTES = 24 * 60;
/** Longest range of revenue-per-category: a year of days. */
const MAX_DAYS = 366;

const instant = z.iso
  .datetime({ offset: true, error: 'expected an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z' })
  .transform((s) => new Date(s));
const day = z.iso.date({ error: 'expected a day, YYYY-MM-DD' });

/** The parameters as OpenAPI shows them; the routes parse with the `…Query` schemas below. */
export const salesPerMinuteParams = z.strictObject({
  from: instant.optional().describe('First minute (default: an hour before `to`)'),
  to: instant.optional().describe('End of the range, not included (default: now)'),
});

export const salesPerMinuteQuery = salesPerMinuteParams.transform(({ from, to }, ctx) => {
  const end = to ?? new Date();
  const start = from ?? new Date(end.getTime() - 60 * MINUTE_MS);
  const minutes = (end.getTime() - start.getTime()) / MINUTE_MS;
  if (minutes <= 0 || minutes > MAX_MINUTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: `must be before \`to\`, by at most ${MAX_MINUTES} minutes`,
    });
    return z.NEVER;
  }
  return { from: start, to: end };
});

export const revenuePerCategoryParams = z.strictObject({
  from: day.optional().describe('First day, UTC (default: `to`)'),
  to: day.optional().describe('Last day, included, UTC (default: today)'),
});

export const revenuePerCategoryQuery = revenuePerCategoryParams.transform(({ from, to }, ctx) => {
  const last = to ?? new Date().toISOString().slice(0, 10);
  const first = from ?? last;
  const days = (Date.parse(last) - Date.parse(first)) / (24 * 60 * MINUTE_MS);
  if (days < 0 || days >= MAX_DAYS) {
    ctx.addIssue({
      code: 'custom',
      path: ['from'],
      message: `must not be after \`to\`, by at most ${MAX_DAYS - 1} days`,
    });
    return z.NEVER;
  }
  return { from: first, to: last };
});

export const topProductsParams = z.strictObject({
  window: z
    .string()
    .regex(/^\d{1,5}$/, 'expected a whole number of minutes from 1 to 10080')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 7 * 24 * 60, 'expected a whole number of minutes from 1 to 10080')
    .optional()
    .describe('The sliding window, minutes before `until` (default 60)'),
  until: instant.optional().describe('End of the window, not included (default: now)'),
  limit: limitParam(10).describe('Most items in the answer: 1 to 100, default 10'),
});

export const topProductsQuery = topProductsParams.transform((q) => ({
  window: q.window ?? 60,
  until: q.until ?? new Date(),
  limit: q.limit,
}));

const count = z.number().int();
const currency = z.string().regex(/^[A-Z]{3}$/);

export const salesMinuteSchema = z.strictObject({
  minute: z.iso.datetime().describe('The minute (UTC) orders were confirmed in'),
  currency,
  orders: count.describe('Orders confirmed, less those cancelled or returned since'),
  units: count,
  revenue: count.describe('Minor units'),
});

export const categoryRevenueSchema = z.strictObject({
  day: z.iso.date(),
  category: z.string().describe('The product’s category now; (unknown) if never seen'),
  currency,
  units: count,
  revenue: count.describe('Minor units'),
});

export const topProductSchema = z.strictObject({
  productId: z.string(),
  name: z.string().nullable(),
  category: z.string().nullable(),
  currency,
  units: count,
  revenue: count.describe('Minor units'),
});

export const salesPerMinuteSchema = z.strictObject({ items: z.array(salesMinuteSchema) });
export const revenuePerCategorySchema = z.strictObject({ items: z.array(categoryRevenueSchema) });
export const topProductsSchema = z.strictObject({
  window: count.describe('Minutes'),
  until: z.iso.datetime(),
  items: z.array(topProductSchema),
});
