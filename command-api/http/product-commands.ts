/**
 * The product commands that are one request on one product: each entry is its route, who may
 * send it, the body it takes, the command it becomes and what its decider may refuse. Both
 * the routes (product-routes.ts) and the OpenAPI document (openapi.ts) are built from this
 * table, so such a command is added here once (domain/README.md, "How to add a command").
 */
import { z } from 'zod';
import type { ProductCommand } from '../../domain';
import { MAX_COUNT } from '../../domain/validation';
import type { Role } from '../../lib/http/auth';
import { reserveStockBody, restockBody } from './request-schemas';

type Refusals = Partial<Record<'404' | '409' | '422', readonly string[]>>;

export interface ProductCommandRoute<B extends z.ZodType = z.ZodType> {
  method: 'post' | 'delete';
  /** As OpenAPI writes it: `{id}` is the product, `{orderId}` an order. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  roles: readonly Role[];
  /** The request body and its name among the document's schemas; none: no body. */
  body?: { schema: B; id: string };
  command(productId: string, body: z.infer<B>, orderId: string): ProductCommand;
  /** The rejection codes of the product decider this command may meet, by status. */
  refusals: Refusals;
}

// Each entry's body type ties its schema to its command builder; the table holds them erased.
const route = <B extends z.ZodType>(r: ProductCommandRoute<B>) =>
  r as unknown as ProductCommandRoute;

export const purchaseLimitBody = z.strictObject({
  limit: z
    .number()
    .int('expected a whole number')
    .min(1, 'expected at least 1')
    .max(MAX_COUNT)
    .nullable(),
});

export const productCommandRoutes: readonly ProductCommandRoute[] = [
  route({
    method: 'delete',
    path: '/products/{id}',
    operationId: 'discontinueProduct',
    summary: 'Discontinue a product',
    description: 'Its SKU may then be used again.',
    roles: ['admin'],
    command: (productId) => ({ type: 'DiscontinueProduct', productId }),
    refusals: { '404': ['product_not_found'], '409': ['product_discontinued'] },
  }),
  route({
    method: 'post',
    path: '/products/{id}/restock',
    operationId: 'restockProduct',
    summary: 'Add stock',
    roles: ['admin'],
    body: { schema: restockBody, id: 'Restock' },
    command: (productId, body) => ({ type: 'RestockProduct', productId, ...body }),
    refusals: {
      '404': ['product_not_found'],
      '409': ['product_discontinued'],
      '422': ['invalid_quantity'],
    },
  }),
  route({
    method: 'post',
    path: '/products/{id}/purchase-limit',
    operationId: 'setPurchaseLimit',
    summary: 'Set the most units one order may take',
    description:
      'null lifts the limit. Reservations above it are refused (purchase_limit_exceeded).',
    roles: ['admin'],
    body: { schema: purchaseLimitBody, id: 'PurchaseLimit' },
    command: (productId, body) => ({ type: 'SetPurchaseLimit', productId, limit: body.limit }),
    refusals: {
      '404': ['product_not_found'],
      '409': ['product_discontinued'],
      '422': ['invalid_quantity'],
    },
  }),
  route({
    method: 'post',
    path: '/products/{id}/reservations',
    operationId: 'reserveStock',
    summary: 'Reserve stock for an order',
    description:
      'Never below zero, nor above the purchase limit; a reservation for the same order is applied once.',
    roles: ['service', 'admin'],
    body: { schema: reserveStockBody, id: 'ReserveStock' },
    command: (productId, body) => ({ type: 'ReserveStock', productId, ...body }),
    refusals: {
      '404': ['product_not_found'],
      '409': [
        'product_discontinued',
        'reservation_exists',
        'insufficient_stock',
        'purchase_limit_exceeded',
      ],
      '422': ['invalid_product', 'invalid_quantity'],
    },
  }),
  route({
    method: 'post',
    path: '/products/{id}/reservations/{orderId}/release',
    operationId: 'releaseReservation',
    summary: 'Release an order’s reservation',
    roles: ['service', 'admin'],
    command: (productId, _body, orderId) => ({ type: 'ReleaseReservation', productId, orderId }),
    refusals: { '404': ['product_not_found'], '422': ['invalid_product'] },
  }),
  route({
    method: 'post',
    path: '/products/{id}/reservations/{orderId}/commit',
    operationId: 'commitReservation',
    summary: 'Commit an order’s reservation on shipment',
    roles: ['service', 'admin'],
    command: (productId, _body, orderId) => ({ type: 'CommitReservation', productId, orderId }),
    refusals: {
      '404': ['product_not_found'],
      '409': ['reservation_not_found'],
      '422': ['invalid_product'],
    },
  }),
];
