/**
 * The query API's OpenAPI 3.1 document, served at GET /openapi.json, built from the zod
 * schemas the routes parse their query strings with and the schemas of their answers (a test
 * checks it lists every served route; `npm run lint` lints it with Redocly).
 */

import { z } from 'zod';
import { ROLES } from '../../lib/http/auth';
import {
  type ApiOperation,
  openApiDocument as buildDocument,
  metaOperations,
  type SuccessResponse,
  schemaRegistry,
} from '../../lib/http/openapi';
import {
  revenuePerCategoryParams,
  revenuePerCategorySchema,
  salesPerMinuteParams,
  salesPerMinuteSchema,
  topProductsParams,
  topProductsSchema,
} from './analytics-schemas';
import { bestSellersQuery, customerOrdersQuery, productListQuery } from './query-schemas';
import {
  bestSellerSchema,
  categorySchema,
  historyEntrySchema,
  moneySchema,
  orderPageSchema,
  orderSchema,
  orderStatusEventSchema,
  orderSummarySchema,
  productPageSchema,
  productSchema,
  readinessSchema,
  stockSchema,
} from './response-schemas';

const registry = schemaRegistry();
registry.add(moneySchema, {
  id: 'Money',
  description: 'Integer minor units (cents) with an ISO 4217 currency code',
});
registry.add(productSchema, { id: 'Product' });
registry.add(productPageSchema, { id: 'ProductPage' });
registry.add(stockSchema, { id: 'Stock' });
registry.add(categorySchema, { id: 'Category' });
registry.add(bestSellerSchema, { id: 'BestSeller' });
registry.add(orderSummarySchema, { id: 'OrderSummary', description: 'An order without its lines' });
registry.add(orderSchema, { id: 'Order', description: 'An order with its lines' });
registry.add(orderPageSchema, { id: 'OrderPage' });
registry.add(historyEntrySchema, { id: 'HistoryEntry' });

const CONSISTENCY_WAIT =
  'The consistency token was not reached within CONSISTENCY_WAIT_MS, or a store is not answering: retry after Retry-After with the same token';

interface ReadSpec {
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'catalogue' | 'orders';
  pathParams?: Record<string, string>;
  query?: z.ZodObject;
  answer: SuccessResponse;
  /** Read from Postgres (a leader or a follower): says which in X-Read-From. */
  postgres: boolean;
  /** The codes of its 404 (none: no 404), and whether it may answer 403. */
  notFound?: string[];
  forbidden?: boolean;
}

/** A read: any signed-in role, an optional consistency token, the errors every read may give. */
function read(spec: ReadSpec): ApiOperation {
  return {
    method: 'get',
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tag: spec.tag,
    roles: ROLES,
    pathParams: spec.pathParams,
    query: spec.query,
    headerParams: ['ConsistencyToken'],
    success: {
      '200': {
        ...spec.answer,
        headers: spec.postgres ? ['X-Read-From', ...(spec.answer.headers ?? [])] : [],
      },
    },
    problems: {
      ...(spec.notFound ? { '404': spec.notFound } : {}),
      ...(spec.forbidden ? { '403': [] } : {}),
    },
    unavailable: CONSISTENCY_WAIT,
  };
}

/** Staff reads of the analytics read model (no consistency token: it is not what they wait for). */
function analyticsOperations(): ApiOperation[] {
  const op = (
    path: string,
    operationId: string,
    summary: string,
    query: z.ZodObject,
    schema: z.ZodType,
  ): ApiOperation => ({
    method: 'get',
    path,
    operationId,
    summary,
    description:
      'A sale is an order confirmed, counted in the minute (UTC) of its confirmation; an order cancelled or returned after it was confirmed is taken back out of that minute. From the analytics read model (orderstream replay analytics rebuilds it).',
    tag: 'analytics',
    roles: ['admin', 'service'],
    query,
    success: { '200': { description: summary, schema } },
    unavailable: 'A store is not answering: retry after Retry-After',
  });
  return [
    op(
      '/analytics/sales-per-minute',
      'getSalesPerMinute',
      'Orders, units and revenue per minute and currency',
      salesPerMinuteParams,
      salesPerMinuteSchema,
    ),
    op(
      '/analytics/revenue-per-category',
      'getRevenuePerCategory',
      'Units and revenue per day, category and currency',
      revenuePerCategoryParams,
      revenuePerCategorySchema,
    ),
    op(
      '/analytics/top-products',
      'getTopProducts',
      'The best-selling products by units over a sliding window',
      topProductsParams,
      topProductsSchema,
    ),
  ];
}

const productId = { id: 'Product id' };
const orderId = { id: 'Order id' };

const operations: ApiOperation[] = [
  read({
    path: '/products',
    operationId: 'listProducts',
    summary: 'Products not discontinued, cheapest first',
    description:
      'By price, then id, gathered from every shard and merged; pass nextCursor back as cursor for the next page.',
    tag: 'catalogue',
    query: productListQuery,
    answer: { description: 'A page of products', schema: productPageSchema },
    postgres: true,
  }),
  read({
    path: '/products/best-sellers',
    operationId: 'listBestSellers',
    summary: 'Products by units ordered, highest first (Redis views)',
    tag: 'catalogue',
    query: bestSellersQuery,
    answer: { description: 'The ranking', schema: z.array(bestSellerSchema) },
    postgres: false,
  }),
  read({
    path: '/products/{id}',
    operationId: 'getProduct',
    summary: 'One product, discontinued or not',
    tag: 'catalogue',
    pathParams: productId,
    answer: { description: 'The product', schema: productSchema },
    postgres: true,
    notFound: ['product_not_found'],
  }),
  read({
    path: '/products/{id}/stock',
    operationId: 'getProductStock',
    summary: 'Live available stock (Redis views)',
    tag: 'catalogue',
    pathParams: productId,
    answer: { description: 'The stock', schema: stockSchema },
    postgres: false,
    notFound: ['product_not_found'],
  }),
  read({
    path: '/categories',
    operationId: 'listCategories',
    summary: 'Categories with their number of products not discontinued, by name',
    tag: 'catalogue',
    answer: { description: 'The categories', schema: z.array(categorySchema) },
    postgres: false,
  }),
  read({
    path: '/orders/{id}',
    operationId: 'getOrder',
    summary: 'One order with its lines',
    description: 'A customer reads only its own orders; another’s is 404.',
    tag: 'orders',
    pathParams: orderId,
    answer: { description: 'The order', schema: orderSchema },
    postgres: true,
    notFound: ['order_not_found'],
  }),
  read({
    path: '/orders/{id}/history',
    operationId: 'getOrderHistory',
    summary: 'Every event of an order, in aggregate-version order',
    description: 'The audit trail. A customer reads only its own orders; another’s is 404.',
    tag: 'orders',
    pathParams: orderId,
    answer: { description: 'The events', schema: z.array(historyEntrySchema) },
    postgres: true,
    notFound: ['order_not_found'],
  }),
  {
    ...read({
      path: '/orders/{id}/stream',
      operationId: 'streamOrderStatus',
      summary: 'The order’s status and progress as Server-Sent Events, until it settles',
      description:
        'The first read is an ordinary read (auth, ownership and X-Consistency-Token as GET /orders/{id}): an unknown or foreign order, a bad token or a token not reached answer a problem before the stream starts. Then `event: status` with an OrderStatusEvent as `data` and the order version as `id`, at once and again each time status, progress or cancelReason change; after the event of a settled order (confirmed, cancelled, shipped, delivered, returned) the stream ends. A `: keep-alive` comment line comes every 15 s. The stream also ends when the server shuts down (reconnect). A customer reads only its own orders; another’s is 404.',
      tag: 'orders',
      pathParams: orderId,
      answer: { description: 'See below' },
      postgres: true,
      notFound: ['order_not_found'],
    }),
    headerParams: ['ConsistencyToken', 'LastEventId'],
    success: {
      '200': {
        description:
          'The event stream, e.g. `id: 3` / `event: status` / `data: {"orderId":"o-1","status":"pending","progress":"pending_payment","cancelReason":null}` then a blank line',
        schema: z.string(),
        mediaType: 'text/event-stream',
        eventData: orderStatusEventSchema,
        headers: ['X-Read-From'],
      },
      '204': {
        description:
          'The order is settled and Last-Event-ID is its version: the client has seen its last event',
      },
    },
    unavailable: `${CONSISTENCY_WAIT}; or the server is shutting down`,
  },
  read({
    path: '/customers/{id}/orders',
    operationId: 'listCustomerOrders',
    summary: 'A customer’s orders, newest first',
    description: 'A customer reads only its own orders; another’s is 403.',
    tag: 'orders',
    pathParams: { id: 'Customer id' },
    query: customerOrdersQuery,
    answer: { description: 'A page of orders (without lines)', schema: orderPageSchema },
    postgres: true,
    forbidden: true,
  }),
  ...analyticsOperations(),
  ...metaOperations({
    summary: 'Ready: every Postgres shard and Redis answer',
    description: 'A follower shard that does not answer makes it "degraded", not unready.',
    schema: readinessSchema,
  }),
];

export const openApiDocument = buildDocument({
  title: 'orderstream query API',
  description:
    'Reads of the eventually consistent read side (Postgres shards and Redis views). Send the command API’s X-Consistency-Token to read your own writes.',
  server: { url: 'http://127.0.0.1:3002', description: 'Local (npm start; QUERY_API_PORT)' },
  tags: [
    { name: 'catalogue', description: 'Products, stock, categories, best sellers' },
    { name: 'orders', description: 'Orders, their history and live status' },
    {
      name: 'analytics',
      description: 'Sales per minute, revenue per category and day, top products',
    },
  ],
  registry,
  operations,
  parameters: {
    ConsistencyToken: {
      name: 'X-Consistency-Token',
      description:
        'A token from the command API: the read waits (up to CONSISTENCY_WAIT_MS) until the store it reads has applied those writes',
      schema: z.string(),
    },
    LastEventId: {
      name: 'Last-Event-ID',
      description:
        'Sent by a reconnecting EventSource: when it is the version of a settled order, the answer is 204 (stop reconnecting)',
      schema: z.string(),
    },
  },
});
