/** The query API's OpenAPI 3.1 document, served at GET /openapi.json (a test checks it matches the routes). */

import { jsonBody, pathParam, problemComponent, problemResponse } from '../../lib/http/openapi';
import { ORDER_PROGRESS } from './shapes';

const problem = problemResponse;
const json = jsonBody;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const pathId = (name: string, description: string) => pathParam(name, description);
const queryParam = (name: string, schema: object, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const consistencyToken = { $ref: '#/components/parameters/ConsistencyToken' };
const readFrom = { 'X-Read-From': { $ref: '#/components/headers/ReadFrom' } };
const limit = (fallback: number) =>
  queryParam(
    'limit',
    { type: 'integer', minimum: 1, maximum: 100, default: fallback },
    'Most items in the answer',
  );
const cursor = queryParam(
  'cursor',
  { type: 'string' },
  'The nextCursor of the previous page, unchanged (opaque)',
);

/** A read: any signed-in role, an optional consistency token, and the errors every read may give. */
const read = (
  summary: string,
  ok: { description: string; schema: object; postgres: boolean },
  params: object[] = [],
  errors: ('400' | '403' | '404')[] = [],
) => ({
  summary,
  security: [{ bearer: [] }],
  parameters: [...params, consistencyToken],
  responses: {
    '200': {
      description: ok.description,
      ...(ok.postgres ? { headers: readFrom } : {}),
      ...json(ok.schema),
    },
    '400': problem,
    '401': problem,
    ...Object.fromEntries(errors.filter((e) => e !== '400').map((e) => [e, problem])),
    '503': {
      description:
        'The consistency token was not reached within CONSISTENCY_WAIT_MS, or a store is not answering (Retry-After: 1)',
      ...problem,
    },
  },
});

const progressDescription =
  'Where order fulfilment (reserve stock for every line, authorize payment, confirm) is with the order, as the read model shows it: pending_stock while the order is pending and some line’s stock is not reserved yet; pending_payment while it is pending and every line is reserved (payment is next); otherwise the status itself (confirmed, cancelled — see cancelReason —, shipped, delivered, returned). Everything but pending_stock and pending_payment is settled.';

const page = (item: string) => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: ref(item) },
    nextCursor: {
      type: ['string', 'null'],
      description: 'Pass as cursor for the next page; null on the last page',
    },
  },
});

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'orderstream query API',
    version: '1.0.0',
    description:
      'Reads of the eventually consistent read side (Postgres shards and Redis views). Send the command API’s X-Consistency-Token to read your own writes.',
  },
  paths: {
    '/products': {
      get: read(
        'Products not discontinued, cheapest first (price, then id), from every shard',
        { description: 'A page of products', schema: page('Product'), postgres: true },
        [
          queryParam('category', { type: 'string' }, 'Only this category'),
          queryParam('minPrice', { type: 'integer', minimum: 0 }, 'Lowest price, minor units'),
          queryParam('maxPrice', { type: 'integer', minimum: 0 }, 'Highest price, minor units'),
          cursor,
          limit(20),
        ],
      ),
    },
    '/products/best-sellers': {
      get: read(
        'Products by units ordered, highest first (Redis views)',
        {
          description: 'The ranking',
          schema: { type: 'array', items: ref('BestSeller') },
          postgres: false,
        },
        [limit(10)],
      ),
    },
    '/products/{id}': {
      get: read(
        'One product, discontinued or not',
        { description: 'The product', schema: ref('Product'), postgres: true },
        [pathId('id', 'Product id')],
        ['404'],
      ),
    },
    '/products/{id}/stock': {
      get: read(
        'Live available stock (Redis views)',
        { description: 'The stock', schema: ref('Stock'), postgres: false },
        [pathId('id', 'Product id')],
        ['404'],
      ),
    },
    '/categories': {
      get: read('Categories with their number of products not discontinued, by name', {
        description: 'The categories',
        schema: { type: 'array', items: ref('Category') },
        postgres: false,
      }),
    },
    '/orders/{id}': {
      get: read(
        'One order with its lines (a customer: only its own; another’s is 404)',
        { description: 'The order', schema: ref('Order'), postgres: true },
        [pathId('id', 'Order id')],
        ['404'],
      ),
    },
    '/orders/{id}/history': {
      get: read(
        'Every event of an order, in aggregate-version order (a customer: only its own)',
        {
          description: 'The audit trail',
          schema: { type: 'array', items: ref('HistoryEntry') },
          postgres: true,
        },
        [pathId('id', 'Order id')],
        ['404'],
      ),
    },
    '/orders/{id}/stream': {
      get: {
        summary:
          'The order’s status and progress as Server-Sent Events, until it settles (a customer: only its own; another’s is 404)',
        description:
          'The first read is an ordinary read (auth, ownership and X-Consistency-Token as GET /orders/{id}): an unknown or foreign order, a bad token or a token not reached answer a problem before the stream starts. Then `event: status` with an OrderStatusEvent as `data` and the order version as `id`, at once and again each time status, progress or cancelReason change (the read model is read every 200 ms); after the event of a settled order (confirmed, cancelled, shipped, delivered, returned) the stream ends. A `: keep-alive` comment line comes every 15 s. The stream also ends when the server shuts down (reconnect).',
        security: [{ bearer: [] }],
        parameters: [
          pathId('id', 'Order id'),
          consistencyToken,
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description:
              'Sent by a reconnecting EventSource: when it is the version of a settled order, the answer is 204 (stop reconnecting)',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description:
              'The event stream, e.g. `id: 3` / `event: status` / `data: {"orderId":"o-1","status":"pending","progress":"pending_payment","cancelReason":null}` then a blank line',
            headers: {
              ...readFrom,
              'Cache-Control': { schema: { type: 'string', const: 'no-cache, no-transform' } },
            },
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          '204': {
            description:
              'The order is settled and Last-Event-ID is its version: the client has seen its last event',
          },
          '400': problem,
          '401': problem,
          '404': problem,
          '503': {
            description:
              'The consistency token was not reached within CONSISTENCY_WAIT_MS, a store is not answering, or the server is shutting down (Retry-After: 1)',
            ...problem,
          },
        },
      },
    },
    '/customers/{id}/orders': {
      get: read(
        'A customer’s orders, newest first (a customer: only its own, else 403)',
        {
          description: 'A page of orders (without lines)',
          schema: page('OrderSummary'),
          postgres: true,
        },
        [
          pathId('id', 'Customer id'),
          queryParam(
            'status',
            {
              type: 'string',
              enum: ['pending', 'confirmed', 'shipped', 'delivered', 'returned', 'cancelled'],
            },
            'Only orders in this status',
          ),
          cursor,
          limit(20),
        ],
        ['403'],
      ),
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
    '/health/live': {
      get: { summary: 'The process runs', responses: { '200': { description: 'live' } } },
    },
    '/health/ready': {
      get: {
        summary:
          'Every Postgres shard and Redis answer; a follower shard that does not answer makes it "degraded", not unready',
        responses: {
          '200': {
            description: 'ready or degraded',
            ...json({
              type: 'object',
              properties: {
                status: { enum: ['ready', 'degraded'] },
                dependencies: { type: 'object' },
                degraded: { type: 'array', items: { type: 'string' } },
              },
            }),
          },
          '503': problem,
        },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    parameters: {
      ConsistencyToken: {
        name: 'X-Consistency-Token',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description:
          'A token from the command API: the read waits (up to CONSISTENCY_WAIT_MS) until the store it reads has applied those writes',
      },
    },
    headers: {
      ReadFrom: {
        description: 'Which copy of the Postgres read model answered',
        schema: { enum: ['leader', 'follower'] },
      },
    },
    schemas: {
      Money: {
        type: 'object',
        required: ['amount', 'currency'],
        properties: {
          amount: { type: 'integer', minimum: 0, description: 'minor units (cents)' },
          currency: { type: 'string' },
        },
      },
      Product: {
        type: 'object',
        properties: {
          productId: { type: 'string' },
          sku: { type: 'string' },
          name: { type: 'string' },
          description: { type: 'string' },
          category: { type: 'string' },
          price: ref('Money'),
          available: { type: 'integer' },
          reserved: { type: 'integer' },
          sold: { type: 'integer' },
          discontinued: { type: 'boolean' },
          version: { type: 'integer' },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      Stock: {
        type: 'object',
        properties: {
          productId: { type: 'string' },
          available: { type: 'integer' },
          discontinued: { type: 'boolean' },
        },
      },
      Category: {
        type: 'object',
        properties: { category: { type: 'string' }, count: { type: 'integer' } },
      },
      BestSeller: {
        type: 'object',
        properties: {
          productId: { type: 'string' },
          name: { type: ['string', 'null'] },
          unitsSold: { type: 'integer' },
        },
      },
      OrderSummary: {
        type: 'object',
        properties: {
          orderId: { type: 'string' },
          customerId: { type: 'string' },
          status: {
            enum: ['pending', 'confirmed', 'shipped', 'delivered', 'returned', 'cancelled'],
          },
          progress: { enum: ORDER_PROGRESS, description: progressDescription },
          total: ref('Money'),
          paymentId: { type: ['string', 'null'] },
          trackingNumber: { type: ['string', 'null'] },
          cancelReason: { type: ['string', 'null'] },
          returnReason: { type: ['string', 'null'] },
          version: { type: 'integer' },
          placedAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      Order: {
        allOf: [
          ref('OrderSummary'),
          {
            type: 'object',
            properties: {
              lines: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    lineNo: { type: 'integer' },
                    productId: { type: 'string' },
                    quantity: { type: 'integer' },
                    unitPrice: ref('Money'),
                    stockReserved: { type: 'boolean' },
                  },
                },
              },
            },
          },
        ],
      },
      OrderStatusEvent: {
        type: 'object',
        description: 'The data of an `event: status` of GET /orders/{id}/stream',
        required: ['orderId', 'status', 'progress', 'cancelReason'],
        properties: {
          orderId: { type: 'string' },
          status: {
            enum: ['pending', 'confirmed', 'shipped', 'delivered', 'returned', 'cancelled'],
          },
          progress: { enum: ORDER_PROGRESS, description: progressDescription },
          cancelReason: { type: ['string', 'null'] },
        },
      },
      HistoryEntry: {
        type: 'object',
        properties: {
          type: { type: 'string' },
          aggregateVersion: { type: 'integer' },
          eventId: { type: 'string' },
          occurredAt: { type: 'string', format: 'date-time' },
          data: { type: 'object' },
        },
      },
    },
    responses: {
      Problem: problemComponent,
    },
  },
} as const;
