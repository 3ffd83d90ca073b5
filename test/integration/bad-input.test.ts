import net from 'node:net';
import { createPaymentGateway } from '../../infra/payment-gateway/app';
import { behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import { type Config, loadConfig } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createKafkaClient } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import {
  call,
  callRetryingUnavailable,
  type HttpResult,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { silentLogger } from '../support/test-env';

/** What a 400 for bad input must look like: problem+json naming `field`. */
function expectRefused(res: HttpResult, field: string, what: string): void {
  expect({ what, status: res.status, type: res.headers.get('content-type') }).toEqual({
    what,
    status: 400,
    type: expect.stringMatching(/^application\/problem\+json/),
  });
  expect({ what, errors: res.body.errors }).toEqual({
    what,
    errors: expect.arrayContaining([expect.objectContaining({ field })]),
  });
}

/** A request written byte for byte (fetch refuses to send NUL in a header). */
function rawRequest(url: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(Buffer.from(head, 'latin1'));
    });
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const [status] = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.slice(1) ?? ['0'];
      resolve({ status: Number(status), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/**
 * No input reaches a 500 or the log: NUL and control characters in bodies, path parameters,
 * query strings and headers are answered 400 problem+json naming the field, in both APIs, and
 * a body that is not JSON is 415 — and nothing is appended to any topic.
 */
describe('bad input', () => {
  let config: Config;
  let commands: RunningCommandApi;
  let query: { api: QueryApi; server: RunningServer };
  let admin: string;
  let customer: string;
  let service: string;
  let productId: string;
  let orderId: string;

  /** Every topic the command side writes: events, commands, replies. */
  async function logEnds(): Promise<Record<string, string>> {
    const names = topicNames(config.topics);
    const admin = createKafkaClient(config).admin();
    const ends: Record<string, string> = {};
    try {
      for (const topic of [
        names.productEvents,
        names.orderEvents,
        names.productCommands,
        names.orderCommands,
        names.productReplies,
        names.orderReplies,
      ]) {
        for (const { partition, high } of await admin.offsets(topic)) {
          ends[`${topic}#${partition}`] = String(high);
        }
      }
    } finally {
      await admin.close();
    }
    return ends;
  }

  beforeAll(async () => {
    config = await isolatedConfig('bad-input', {}, { stores: true });
    commands = await startCommandApi(config);
    const api = createQueryApi(config, silentLogger());
    query = { api, server: await listen(api.app, '127.0.0.1', 0) };
    admin = await tokenFor(config, 'admin', 'alice');
    customer = await tokenFor(config, 'customer', 'c-bad');
    service = await tokenFor(config, 'service', 'saga');
    const created = await call(commands.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'BAD-1',
        name: 'Mug',
        description: 'two\nlines\tand a tab',
        category: 'kitchen',
        price: { amount: 1299, currency: 'EUR' },
        initialStock: 10,
      },
    });
    expect(created.status).toBe(201);
    productId = created.body.aggregateId as string;
    const placed = await callRetryingUnavailable(commands.url, '/orders', {
      token: customer,
      body: { items: [{ productId, quantity: 1 }] },
    });
    expect({ status: placed.status, body: placed.body }).toMatchObject({ status: 201 });
    orderId = placed.body.aggregateId as string;
  });

  afterAll(async () => {
    await query?.server.close();
    await query?.api.close();
    await commands?.stop();
  });

  const product = {
    sku: 'BAD-2',
    name: 'Cup',
    category: 'kitchen',
    price: { amount: 500, currency: 'EUR' },
  };

  it('command API: NUL and control characters in a body are 400 naming the field; nothing is appended', async () => {
    const before = await logEnds();
    const cases: [string, string, string, unknown, string][] = [
      ['POST', '/products', admin, { ...product, name: 'Cup\u0000' }, 'name'],
      ['POST', '/products', admin, { ...product, sku: 'B\u0001' }, 'sku'],
      ['POST', '/products', admin, { ...product, category: 'kit\u0085chen' }, 'category'],
      ['POST', '/products', admin, { ...product, description: 'a\u0000b' }, 'description'],
      ['POST', '/products', admin, { ...product, name: 'two\nlines' }, 'name'],
      ['PATCH', `/products/${productId}`, admin, { name: 'a\u0000b' }, 'name'],
      ['PATCH', `/products/${productId}`, admin, { category: '\u007f' }, 'category'],
      ['PATCH', `/products/${productId}`, admin, { description: 'bell\u0007' }, 'description'],
      [
        'POST',
        '/orders',
        customer,
        { items: [{ productId: `${productId}\u0000`, quantity: 1 }] },
        'items[0].productId',
      ],
      ['POST', `/orders/${orderId}/cancel`, customer, { reason: 'oops\u0000' }, 'reason'],
      ['POST', `/orders/${orderId}/return`, customer, { reason: '\u001b[31m' }, 'reason'],
      ['POST', `/orders/${orderId}/ship`, admin, { trackingNumber: 'T\u0000' }, 'trackingNumber'],
      [
        'POST',
        `/products/${productId}/reservations`,
        service,
        { orderId: 'o\u0000', quantity: 1 },
        'orderId',
      ],
      // Past what an Avro long holds: never a 500, whichever check refuses it.
      [
        'POST',
        '/products',
        admin,
        { ...product, price: { amount: 2 ** 53 - 1, currency: 'EUR' } },
        'price.amount',
      ],
      [
        'PATCH',
        `/products/${productId}`,
        admin,
        { price: { amount: 2 ** 53 - 1, currency: 'EUR' } },
        'price.amount',
      ],
      // An unknown field whose name holds NUL is named too.
      ['POST', '/products', admin, { ...product, 'x\u0000': 1 }, '"x\\u0000"'],
    ];
    for (const [method, path, token, body, field] of cases) {
      const res = await call(commands.url, method, path, { token, body });
      expectRefused(res, field, `${method} ${path} ${JSON.stringify(body)}`);
    }
    expect(await logEnds()).toEqual(before);
  });

  it('command API: NUL in path parameters and control characters in headers are 400 naming them', async () => {
    const before = await logEnds();
    const cases: [string, string, string, Record<string, string>, string][] = [
      ['POST', '/products/a%00b/restock', admin, {}, 'id'],
      ['PATCH', '/products/%00', admin, {}, 'id'],
      ['DELETE', '/products/a%01b', admin, {}, 'id'],
      ['POST', `/products/${productId}/reservations/o%00/release`, service, {}, 'orderId'],
      ['POST', `/products/${productId}/reservations/o%00/commit`, service, {}, 'orderId'],
      ['POST', '/orders/a%00b/cancel', customer, {}, 'id'],
      ['POST', '/orders/a%00b/deliver', admin, {}, 'id'],
      ['GET', '/commands/a%00b', admin, {}, 'id'],
      // C1 controls reach the app (the HTTP parser refuses C0 ones itself).
      [
        'POST',
        `/products/${productId}/restock`,
        admin,
        { 'Idempotency-Key': 'k\u0085' },
        'Idempotency-Key',
      ],
      [
        'POST',
        `/products/${productId}/restock`,
        admin,
        { 'X-Correlation-Id': 'c\u0085' },
        'X-Correlation-Id',
      ],
    ];
    for (const [method, path, token, headers, field] of cases) {
      const body = method === 'POST' && path.endsWith('restock') ? { quantity: 1 } : undefined;
      const res = await call(commands.url, method, path, { token, headers, body });
      expectRefused(res, field, `${method} ${path} ${JSON.stringify(headers)}`);
    }
    const badAuth = await call(commands.url, 'POST', '/products', {
      headers: { authorization: `Bearer ${admin}\u0085` },
      body: product,
    });
    expectRefused(badAuth, 'Authorization', 'Authorization with a C1 control');
    expect(await logEnds()).toEqual(before);
  });

  it('command API: a body that is not JSON is 415 and changes nothing; a POST without a body needs no Content-Type', async () => {
    const before = await logEnds();
    for (const [path, token, type, body] of [
      [`/orders/${orderId}/cancel`, customer, 'text/plain', 'changed my mind'],
      ['/products', admin, 'text/plain;charset=UTF-8', JSON.stringify(product)],
      [`/products/${productId}/restock`, admin, 'application/x-www-form-urlencoded', 'quantity=1'],
    ] as const) {
      const res = await fetch(`${commands.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body,
      });
      expect({ path, status: res.status, type: res.headers.get('content-type') }).toEqual({
        path,
        status: 415,
        type: expect.stringMatching(/^application\/problem\+json/),
      });
      expect(await res.json()).toMatchObject({
        status: 415,
        errors: [{ field: 'Content-Type', message: expect.any(String) }],
      });
    }
    const noType = await fetch(`${commands.url}/products/${productId}/restock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      body: Buffer.from('{"quantity":1}'),
    });
    expect(noType.status).toBe(415);
    expect(await logEnds()).toEqual(before);

    // No body, no Content-Type: an ordinary command (this order is not shipped: a refusal).
    const deliver = await call(commands.url, 'POST', `/orders/${orderId}/deliver`, {
      token: admin,
    });
    expect(deliver.status).toBe(409);
    // The cancel reason arrives intact as JSON.
    const cancel = await call(commands.url, 'POST', `/orders/${orderId}/cancel`, {
      token: customer,
      body: { reason: 'changed my mind' },
    });
    expect(cancel.status).toBe(200);
    expect(cancel.body.events).toEqual([
      expect.objectContaining({
        type: 'OrderCancelled',
        data: expect.objectContaining({ reason: 'changed my mind' }),
      }),
    ]);
  });

  it('query API: NUL and control characters in paths, query strings and headers are 400 naming them, never 500', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['/products?category=a%00b', {}, 'category'],
      ['/products?category=a%01b&limit=5', {}, 'category'],
      ['/products?minPrice=%00', {}, 'minPrice'],
      ['/products/%00', {}, 'id'],
      ['/products/a%00b/stock', {}, 'id'],
      ['/products/best-sellers?limit=1%00', {}, 'limit'],
      ['/orders/a%00b', {}, 'id'],
      ['/orders/a%00b/history', {}, 'id'],
      ['/orders/a%00b/stream', {}, 'id'],
      ['/customers/a%00b/orders', {}, 'id'],
      ['/customers/c-bad/orders?status=%00', {}, 'status'],
      [
        `/products?cursor=${Buffer.from('{"k":"products","p":"1","i":"a\\u0000b"}').toString('base64url')}`,
        {},
        'cursor',
      ],
      ['/products', { 'X-Consistency-Token': 'x\u0085' }, 'X-Consistency-Token'],
      ['/categories', { 'Last-Event-ID': '\u0085' }, 'Last-Event-ID'],
    ];
    for (const [path, headers, field] of cases) {
      const res = await call(query.server.url, 'GET', path, { token: admin, headers });
      expectRefused(res, field, `GET ${path} ${JSON.stringify(headers)}`);
    }
  });

  it('a request the HTTP parser refuses (NUL in a header) is answered 400 problem+json, by both APIs', async () => {
    for (const url of [commands.url, query.server.url]) {
      const res = await rawRequest(
        url,
        `GET /products HTTP/1.1\r\nHost: x\r\nX-Correlation-Id: a\u0000b\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({
        status: 400,
        errors: [{ field: '(headers)', message: expect.any(String) }],
      });
    }
  });

  it('the payment gateway simulator refuses the same: 400 naming the field, 415 for a body that is not JSON', async () => {
    const gateway = createPaymentGateway({
      logger: silentLogger(),
      behaviour: { ...behaviourFromConfig(loadConfig({}).paymentGateway), latencyMs: 0 },
      bodyLimit: '2kb',
      healthTimeoutMs: 100,
    });
    const server = await listen(gateway.app, '127.0.0.1', 0);
    try {
      const authorize = {
        idempotencyKey: 'k-1',
        orderId: 'o-1',
        customerId: 'c-1',
        amount: { amount: 100, currency: 'EUR' },
      };
      for (const [body, field] of [
        [{ ...authorize, orderId: 'o\u0000' }, 'orderId'],
        [{ ...authorize, idempotencyKey: 'k\n' }, 'idempotencyKey'],
      ] as const) {
        expectRefused(
          await call(server.url, 'POST', '/payments/authorize', { body }),
          field,
          JSON.stringify(body),
        );
      }
      expectRefused(
        await call(server.url, 'GET', '/payments?orderId=o%00'),
        'orderId',
        'GET /payments?orderId=o%00',
      );
      const text = await fetch(`${server.url}/payments/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(authorize),
      });
      expect(text.status).toBe(415);
      expect(gateway.ledger.list({})).toEqual([]);
    } finally {
      gateway.stop();
      await server.close();
    }
  });
});
