/** The command API's OpenAPI 3.1 document, served at GET /openapi.json (a test checks it matches the routes). */

import { MAX_MINOR_UNITS } from '../../domain/money';
import { jsonBody, pathParam, problemComponent, problemResponse } from '../../lib/http/openapi';

const problem = problemResponse;
const json = jsonBody;
const money = { $ref: '#/components/schemas/Money' };
const idempotencyKey = { $ref: '#/components/parameters/IdempotencyKey' };
const pathId = (name: string) => pathParam(name);

const outcomes = (success: '200' | '201') => ({
  [success]: {
    description: 'Accepted: the events appended and a consistency token',
    ...json({ $ref: '#/components/schemas/Accepted' }),
  },
  '202': {
    description: 'Not decided within COMMAND_TIMEOUT_MS; see Location',
    ...json({ $ref: '#/components/schemas/Pending' }),
  },
  '400': problem,
  '401': problem,
  '403': problem,
  '404': problem,
  '409': problem,
  '413': problem,
  '415': { ...problem, description: 'A body that is not JSON' },
  '422': problem,
});

const command = (
  summary: string,
  roles: string,
  body: object | undefined,
  success: '200' | '201' = '200',
  params: object[] = [],
) => ({
  summary: `${summary} (${roles})`,
  security: [{ bearer: [] }],
  parameters: [...params, idempotencyKey],
  ...(body ? { requestBody: { required: true, ...json(body) } } : {}),
  responses: outcomes(success),
});

const reason = {
  type: 'object',
  properties: { reason: { type: 'string' } },
  additionalProperties: false,
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: { title: 'orderstream command API', version: '1.0.0' },
  paths: {
    '/products': {
      post: command(
        'Create a product',
        'admin',
        {
          type: 'object',
          required: ['sku', 'name', 'category', 'price'],
          properties: {
            sku: { type: 'string' },
            name: { type: 'string' },
            description: { type: 'string' },
            category: { type: 'string' },
            price: money,
            initialStock: { type: 'integer', minimum: 0 },
          },
          additionalProperties: false,
        },
        '201',
      ),
    },
    '/products/{id}': {
      patch: command(
        'Update details and/or price',
        'admin',
        {
          type: 'object',
          properties: {
            name: { type: 'string' },
            description: { type: 'string' },
            category: { type: 'string' },
            price: money,
          },
          additionalProperties: false,
        },
        '200',
        [pathId('id')],
      ),
      delete: command('Discontinue a product', 'admin', undefined, '200', [pathId('id')]),
    },
    '/products/{id}/restock': {
      post: command(
        'Add stock',
        'admin',
        {
          type: 'object',
          required: ['quantity'],
          properties: { quantity: { type: 'integer', minimum: 1 } },
          additionalProperties: false,
        },
        '200',
        [pathId('id')],
      ),
    },
    '/products/{id}/reservations': {
      post: command(
        'Reserve stock for an order',
        'service',
        {
          type: 'object',
          required: ['orderId', 'quantity'],
          properties: { orderId: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
          additionalProperties: false,
        },
        '200',
        [pathId('id')],
      ),
    },
    '/products/{id}/reservations/{orderId}/release': {
      post: command('Release an order’s reservation', 'service', undefined, '200', [
        pathId('id'),
        pathId('orderId'),
      ]),
    },
    '/products/{id}/reservations/{orderId}/commit': {
      post: command('Commit an order’s reservation on shipment', 'service', undefined, '200', [
        pathId('id'),
        pathId('orderId'),
      ]),
    },
    '/orders': {
      post: command(
        'Place an order; prices come from the catalogue',
        'customer',
        {
          type: 'object',
          required: ['items'],
          properties: {
            items: {
              type: 'array',
              minItems: 1,
              maxItems: 100,
              items: {
                type: 'object',
                required: ['productId', 'quantity'],
                properties: {
                  productId: { type: 'string' },
                  quantity: { type: 'integer', minimum: 1 },
                },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
        '201',
      ),
    },
    '/orders/{id}/cancel': {
      post: command('Cancel before shipment', 'customer (own) or admin', reason, '200', [
        pathId('id'),
      ]),
    },
    '/orders/{id}/return': {
      post: command('Return after delivery', 'customer (own) or admin', reason, '200', [
        pathId('id'),
      ]),
    },
    '/orders/{id}/ship': {
      post: command(
        'Ship a confirmed order',
        'admin',
        {
          type: 'object',
          properties: { trackingNumber: { type: 'string' } },
          additionalProperties: false,
        },
        '200',
        [pathId('id')],
      ),
    },
    '/orders/{id}/deliver': {
      post: command('Mark a shipped order delivered', 'admin', undefined, '200', [pathId('id')]),
    },
    '/commands/{id}': {
      get: {
        summary: 'The outcome of an earlier command (its sender or staff)',
        security: [{ bearer: [] }],
        parameters: [pathId('id')],
        responses: {
          '200': { description: 'Accepted', ...json({ $ref: '#/components/schemas/Accepted' }) },
          '202': {
            description: 'Not decided yet',
            ...json({ $ref: '#/components/schemas/Pending' }),
          },
          '401': problem,
          '404': problem,
          '409': problem,
          '422': problem,
        },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
    '/health/live': {
      get: { summary: 'The process runs', responses: { '200': { description: 'live' } } },
    },
    '/health/ready': {
      get: {
        summary: 'Kafka answers',
        responses: { '200': { description: 'ready' }, '503': problem },
      },
    },
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    parameters: {
      IdempotencyKey: {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 200 },
        description: 'Repeats with the same key get the first outcome and append nothing new',
      },
    },
    schemas: {
      Money: {
        type: 'object',
        required: ['amount', 'currency'],
        properties: {
          amount: {
            type: 'integer',
            minimum: 0,
            maximum: MAX_MINOR_UNITS,
            description:
              'minor units (cents); an order line total and an order total stay within the same maximum',
          },
          currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        },
      },
      Accepted: {
        type: 'object',
        properties: {
          commandId: { type: 'string' },
          status: { const: 'accepted' },
          aggregateId: { type: 'string' },
          events: { type: 'array', items: { type: 'object' } },
          consistencyToken: { type: 'string' },
        },
      },
      Pending: {
        type: 'object',
        properties: { commandId: { type: 'string' }, status: { const: 'pending' } },
      },
    },
    responses: {
      Problem: problemComponent,
    },
  },
} as const;
