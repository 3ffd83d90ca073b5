import { z } from 'zod';
import type { OrderKey } from '../../read-models/orders/queries';
import type { ProductKey } from '../../read-models/products/queries';

/**
 * Keyset cursors: opaque to clients (base64url of a small JSON object), naming the last item a
 * page ended with and which listing they belong to.
 */

/** Where a product listing continues after, and a customer's order listing. */
export type ProductCursor = ProductKey;
export type OrderCursor = OrderKey;

/** An id as the read model stores it (lib/postgres-text.ts): never a NUL. */
const storedId = z
  .string()
  .min(1)
  .max(1000)
  .refine((id) => !id.includes('\u0000'));

const productCursorSchema = z.strictObject({
  k: z.literal('products'),
  p: z.string().regex(/^\d{1,16}$/),
  i: storedId,
});

const MICROSECOND_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const orderCursorSchema = z.strictObject({
  k: z.literal('orders'),
  t: z
    .string()
    .regex(MICROSECOND_UTC)
    .refine((t) => !Number.isNaN(Date.parse(`${t.slice(0, 23)}Z`))),
  i: storedId,
});

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decode<T>(cursor: string, schema: z.ZodType<T>): T | undefined {
  if (!/^[A-Za-z0-9_-]{1,4000}$/.test(cursor)) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function encodeProductCursor(c: ProductCursor): string {
  return encode({ k: 'products', p: c.priceAmount, i: c.productId });
}

export function decodeProductCursor(cursor: string): ProductCursor | undefined {
  const c = decode(cursor, productCursorSchema);
  return c && { priceAmount: c.p, productId: c.i };
}

export function encodeOrderCursor(c: OrderCursor): string {
  return encode({ k: 'orders', t: c.placedAt, i: c.orderId });
}

export function decodeOrderCursor(cursor: string): OrderCursor | undefined {
  const c = decode(cursor, orderCursorSchema);
  return c && { placedAt: c.t, orderId: c.i };
}
