/**
 * The command API's OpenAPI 3.1 document, served at GET /openapi.json, built from the zod
 * schemas the routes validate with (a test checks it lists every served route; `npm run lint`
 * lints it with Redocly).
 */

import { z } from 'zod';
import { ROLES, type Role } from '../../lib/http/auth';
import {
  type ApiOperation,
  openApiDocument as buildDocument,
  metaOperations,
  type ProblemStatus,
  schemaRegistry,
} from '../../lib/http/openapi';
import { IDEMPOTENCY_KEY_REUSED } from '../processor/reply';
import { productCommandRoutes } from './product-commands';
import {
  createProductBody,
  idempotencyKeyHeader,
  moneySchema,
  placeOrderBody,
  reasonBody,
  shipBody,
  updateProductBody,
} from './request-schemas';
import { acceptedSchema, pendingSchema } from './response-schemas';

const registry = schemaRegistry();
registry.add(moneySchema, {
  id: 'Money',
  description: 'Integer minor units (cents) with an ISO 4217 currency code',
});
registry.add(createProductBody, { id: 'CreateProduct' });
registry.add(updateProductBody, {
  id: 'UpdateProduct',
  description: 'At least one field; details and price may change together',
});
for (const { body } of productCommandRoutes) if (body) registry.add(body.schema, { id: body.id });
registry.add(placeOrderBody, {
  id: 'PlaceOrder',
  description: 'Prices come from the catalogue, never from the client; a product appears once',
});
registry.add(reasonBody, { id: 'Reason' });
registry.add(shipBody, { id: 'Ship' });
registry.add(acceptedSchema, {
  id: 'Accepted',
  description: 'The command was accepted: its events, appended, and a consistency token',
});
registry.add(pendingSchema, { id: 'Pending' });

/** Refusals any command may meet, whatever it is (command-api/processor). */
const EVERY_COMMAND = {
  '422': ['command_failed', 'append_failed', IDEMPOTENCY_KEY_REUSED],
} as const;

const path = (name: string, what: string) => ({ [name]: what });

interface CommandSpec {
  method: 'post' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'products' | 'orders';
  roles: readonly Role[];
  pathParams?: Record<string, string>;
  body?: z.ZodType;
  created?: boolean;
  /** The rejection codes of its decider (domain/), by status, besides EVERY_COMMAND's. */
  refusals: Partial<Record<'404' | '409' | '422', readonly string[]>>;
}

/** A command: sent with an optional Idempotency-Key; 200/201, 202 pending, or a refusal. */
function command(spec: CommandSpec): ApiOperation {
  const problems: Partial<Record<ProblemStatus, readonly string[]>> = {
    ...spec.refusals,
    '422': [...(spec.refusals['422'] ?? []), ...EVERY_COMMAND['422']],
  };
  return {
    ...spec,
    headerParams: ['IdempotencyKey'],
    success: {
      [spec.created ? '201' : '200']: {
        description: spec.created
          ? 'Created: the events appended and a consistency token'
          : 'Accepted: the events appended and a consistency token',
        schema: acceptedSchema,
        headers: spec.created ? ['Location', 'X-Consistency-Token'] : ['X-Consistency-Token'],
      },
      '202': {
        description: 'Not decided within COMMAND_TIMEOUT_MS: ask at Location later',
        schema: pendingSchema,
        headers: ['Location'],
      },
    },
    problems,
    unavailable:
      'Too many commands in flight, or the owner out of reach: nothing was decided; send it again with the same Idempotency-Key after Retry-After',
  };
}

const productId = path('id', 'Product id');
/** The parameters a product command's path names. */
const pathParamsOf = (route: string) => ({
  ...productId,
  ...(route.includes('{orderId}') && path('orderId', 'Order id')),
});
const orderPath = path('id', 'Order id');

const operations: ApiOperation[] = [
  command({
    method: 'post',
    path: '/products',
    operationId: 'createProduct',
    summary: 'Create a product',
    description: 'Its SKU must not be one a live product holds.',
    tag: 'products',
    roles: ['admin'],
    body: createProductBody,
    created: true,
    refusals: {
      '409': ['product_exists', 'sku_taken'],
      '422': ['invalid_product', 'amount_too_large', 'wrong_partition'],
    },
  }),
  command({
    method: 'patch',
    path: '/products/{id}',
    operationId: 'updateProduct',
    summary: 'Update details and/or price',
    tag: 'products',
    roles: ['admin'],
    pathParams: productId,
    body: updateProductBody,
    refusals: {
      '404': ['product_not_found'],
      '409': ['product_discontinued'],
      '422': ['invalid_product', 'currency_mismatch', 'amount_too_large'],
    },
  }),
  ...productCommandRoutes.map(({ body, command: _command, ...r }) =>
    command({ ...r, tag: 'products', pathParams: pathParamsOf(r.path), body: body?.schema }),
  ),
  command({
    method: 'post',
    path: '/orders',
    operationId: 'placeOrder',
    summary: 'Place an order',
    description: 'Prices come from the catalogue at placing time, never from the client.',
    tag: 'orders',
    roles: ['customer'],
    body: placeOrderBody,
    created: true,
    refusals: {
      '409': ['order_exists'],
      '422': ['unknown_product', 'amount_too_large', 'invalid_order'],
    },
  }),
  ...(['cancel', 'return'] as const).map((action) =>
    command({
      method: 'post',
      path: `/orders/{id}/${action}`,
      operationId: `${action}Order`,
      summary:
        action === 'cancel' ? 'Cancel an order before shipment' : 'Return an order after delivery',
      description: `A customer may ${action} only its own orders (another’s is 404).`,
      tag: 'orders',
      roles: ['customer', 'admin', 'service'],
      pathParams: orderPath,
      body: reasonBody,
      refusals: { '404': ['order_not_found'], '409': ['illegal_transition'] },
    }),
  ),
  command({
    method: 'post',
    path: '/orders/{id}/ship',
    operationId: 'shipOrder',
    summary: 'Ship a confirmed order',
    tag: 'orders',
    roles: ['admin', 'service'],
    pathParams: orderPath,
    body: shipBody,
    refusals: { '404': ['order_not_found'], '409': ['illegal_transition'] },
  }),
  command({
    method: 'post',
    path: '/orders/{id}/deliver',
    operationId: 'deliverOrder',
    summary: 'Mark a shipped order delivered',
    tag: 'orders',
    roles: ['admin', 'service'],
    pathParams: orderPath,
    refusals: { '404': ['order_not_found'], '409': ['illegal_transition'] },
  }),
  {
    method: 'get',
    path: '/commands/{id}',
    operationId: 'getCommand',
    summary: 'The outcome of an earlier command',
    description:
      'Its sender, or staff, may ask. Outcomes are kept while this instance runs; a refusal is answered as the refusal itself (problem+json with its `code`).',
    tag: 'commands',
    roles: ROLES,
    pathParams: path('id', 'Command id (from a 202’s Location)'),
    success: {
      '200': { description: 'Decided and accepted', schema: acceptedSchema },
      '202': { description: 'Not decided yet', schema: pendingSchema, headers: ['Location'] },
    },
    problems: { '404': [], '409': [], '422': [] },
  },
  ...metaOperations({
    summary: 'Ready: the Kafka brokers answer',
    schema: z.object({
      status: z.literal('ready'),
      dependencies: z.record(z.string(), z.literal('up')),
    }),
  }),
];

export const openApiDocument = buildDocument({
  title: 'orderstream command API',
  description:
    'Writes as commands: each goes to the single owner of its aggregate’s partition, which decides it and appends the events in a Kafka transaction. A refusal is problem+json with a machine-readable `code`.',
  server: { url: 'http://127.0.0.1:3001', description: 'Local (npm start; COMMAND_API_PORT)' },
  tags: [
    { name: 'products', description: 'The catalogue and its stock' },
    { name: 'orders', description: 'Orders through their life' },
    { name: 'commands', description: 'Outcomes of earlier commands' },
  ],
  registry,
  operations,
  parameters: {
    IdempotencyKey: {
      name: 'Idempotency-Key',
      description:
        'Repeats with the same key get the first outcome and append nothing new; the same key with another body is 422 idempotency_key_reused',
      schema: idempotencyKeyHeader,
    },
  },
});
