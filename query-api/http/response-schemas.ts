import { z } from 'zod';
import { ORDER_PROGRESS, ORDER_STATUSES } from '../../domain';

/**
 * What the query API answers, as zod schemas: the OpenAPI document shows them, and the query
 * API's tests parse real answers with them (test/integration/query-api.test.ts), so the
 * document cannot promise what the routes do not send.
 */

const timestamp = z.iso.datetime();

export const moneySchema = z.strictObject({
  amount: z.number().int().min(0).describe('minor units (cents)'),
  currency: z.string().regex(/^[A-Z]{3}$/),
});

export const productSchema = z.strictObject({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  price: moneySchema,
  available: z.number().int(),
  reserved: z.number().int(),
  sold: z.number().int(),
  discontinued: z.boolean(),
  version: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const stockSchema = z.strictObject({
  productId: z.string(),
  available: z.number().int(),
  discontinued: z.boolean(),
});

export const categorySchema = z.strictObject({ category: z.string(), count: z.number().int() });

export const bestSellerSchema = z.strictObject({
  productId: z.string(),
  name: z.string().nullable(),
  unitsSold: z.number().int(),
});

const progressSchema = z
  .enum(ORDER_PROGRESS)
  .describe(
    'Where order fulfilment (reserve stock for every line, authorize payment, confirm) is with the order, as the read model shows it: pending_stock while the order is pending and some line’s stock is not reserved yet; pending_payment while it is pending and every line is reserved (payment is next); otherwise the status itself (confirmed, cancelled — see cancelReason —, shipped, delivered, returned). Everything but pending_stock and pending_payment is settled.',
  );

export const orderSummarySchema = z.strictObject({
  orderId: z.string(),
  customerId: z.string(),
  status: z.enum(ORDER_STATUSES),
  progress: progressSchema,
  total: moneySchema,
  paymentId: z.string().nullable(),
  trackingNumber: z.string().nullable(),
  cancelReason: z.string().nullable(),
  returnReason: z.string().nullable(),
  version: z.number().int(),
  placedAt: timestamp,
  updatedAt: timestamp,
});

export const orderSchema = orderSummarySchema.extend({
  lines: z.array(
    z.strictObject({
      lineNo: z.number().int(),
      productId: z.string(),
      quantity: z.number().int(),
      unitPrice: moneySchema,
      stockReserved: z.boolean(),
    }),
  ),
});

export const historyEntrySchema = z.strictObject({
  type: z.string(),
  aggregateVersion: z.number().int(),
  eventId: z.string(),
  occurredAt: timestamp,
  data: z.record(z.string(), z.unknown()),
});

export const orderStatusEventSchema = z
  .object({
    orderId: z.string(),
    status: z.enum(ORDER_STATUSES),
    progress: progressSchema,
    cancelReason: z.string().nullable(),
  })
  .describe('The data of an `event: status` of GET /orders/{id}/stream');

const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as cursor for the next page; null on the last page'),
  });

export const productPageSchema = page(productSchema);
export const orderPageSchema = page(orderSummarySchema);

export const readinessSchema = z.strictObject({
  status: z.enum(['ready', 'degraded']),
  dependencies: z.record(
    z.string(),
    z.union([z.literal('up'), z.strictObject({ down: z.string() })]),
  ),
  degraded: z.array(z.string()).optional().describe('The optional dependencies (followers) down'),
});
