import { z } from 'zod';
import { MAX_MINOR_UNITS } from '../../domain/money';
import { freeText, headerToken, identifier, lineText } from '../../lib/http/text';

/**
 * Request bodies of the command API; unknown fields are refused so typos do not pass silently.
 * Text refuses NUL and control characters (lib/http/text.ts); only descriptions and reasons
 * may span lines.
 */

const id = identifier(200);
const text = lineText;
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
  description: freeText(5000).default(''),
  category: text(100),
  price: moneySchema,
  initialStock: z.number().int().min(0).max(1_000_000_000).default(0),
});

export const updateProductBody = z
  .strictObject({
    name: text(200).optional(),
    description: freeText(5000).optional(),
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

export const reasonBody = z.strictObject({ reason: freeText(500, { nonEmpty: true }).optional() });

export const shipBody = z.strictObject({ trackingNumber: text(100).optional() });

export const idempotencyKeyHeader = headerToken(200);
