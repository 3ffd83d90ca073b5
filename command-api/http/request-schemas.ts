import { z } from 'zod';
import { MAX_MINOR_UNITS } from '../../domain/money';

/** Request bodies of the command API; unknown fields are refused so typos do not pass silently. */

const id = z.string().min(1).max(200);
const text = (max: number) => z.string().trim().min(1).max(max);
const quantity = z
  .number()
  .int('expected a whole number')
  .min(1, 'expected at least 1')
  .max(1_000_000);

export const moneySchema = z.strictObject({
  amount: z
    .number()
    .int('expected integer minor units (cents)')
    .min(0)
    .max(MAX_MINOR_UNITS, `expected at most ${MAX_MINOR_UNITS} minor units`),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as EUR'),
});

export const createProductBody = z.strictObject({
  sku: text(64),
  name: text(200),
  description: z.string().max(5000).default(''),
  category: text(100),
  price: moneySchema,
  initialStock: z.number().int().min(0).max(1_000_000_000).default(0),
});

export const updateProductBody = z
  .strictObject({
    name: text(200).optional(),
    description: z.string().max(5000).optional(),
    category: text(100).optional(),
    price: moneySchema.optional(),
  })
  .refine(
    (b) => Object.values(b).some((v) => v !== undefined),
    'expected at least one of name, description, category, price',
  );

export const restockBody = z.strictObject({ quantity });

export const reserveStockBody = z.strictObject({ orderId: id, quantity });

export const placeOrderBody = z.strictObject({
  items: z
    .array(z.strictObject({ productId: id, quantity }))
    .min(1, 'expected at least one item')
    .max(100, 'expected at most 100 items')
    .refine(
      (items) => new Set(items.map((i) => i.productId)).size === items.length,
      'a product may appear once',
    ),
});

export const reasonBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

export const shipBody = z.strictObject({
  trackingNumber: z.string().trim().min(1).max(100).optional(),
});

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces');
