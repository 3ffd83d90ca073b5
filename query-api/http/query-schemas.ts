import { z } from 'zod';
import { ORDER_STATUSES } from '../../domain';
import { lineText } from '../../lib/http/text';
import { decodeOrderCursor, decodeProductCursor } from './cursor';
import { cursorParam, limitParam, priceParam } from './query-params';

/** The query strings of the query API's listings (the routes parse with them; OpenAPI shows them). */

export const productListQuery = z
  .strictObject({
    category: lineText(100).optional().describe('Only this category'),
    minPrice: priceParam.optional().describe('Lowest price, minor units'),
    maxPrice: priceParam.optional().describe('Highest price, minor units'),
    cursor: cursorParam(decodeProductCursor)
      .optional()
      .describe('The nextCursor of the previous page, unchanged (opaque)'),
    limit: limitParam(20).describe('Most items in the answer: 1 to 100, default 20'),
  })
  .refine((q) => !(q.minPrice && q.maxPrice) || BigInt(q.minPrice) <= BigInt(q.maxPrice), {
    path: ['minPrice'],
    message: 'must not be above maxPrice',
    // Only once both parsed: before that they may not be numbers at all.
    when: (payload) => payload.issues.length === 0,
  });

export const bestSellersQuery = z.strictObject({
  limit: limitParam(10).describe('Most items in the answer: 1 to 100, default 10'),
});

export const customerOrdersQuery = z.strictObject({
  status: z
    .enum(ORDER_STATUSES, { error: `expected one of ${ORDER_STATUSES.join(', ')}` })
    .optional()
    .describe('Only orders in this status'),
  cursor: cursorParam(decodeOrderCursor)
    .optional()
    .describe('The nextCursor of the previous page, unchanged (opaque)'),
  limit: limitParam(20).describe('Most items in the answer: 1 to 100, default 20'),
});
