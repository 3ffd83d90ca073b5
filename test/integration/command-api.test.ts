import { SignJWT } from 'jose';
import { openApiDocument } from '../../command-api/http/openapi';
import { acceptedSchema } from '../../command-api/http/response-schemas';
import type { Config } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import { topicNames } from '../../lib/topics';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  servedRoutes,
  startCommandApi,
  tokenFor,
} from '../support/command-api';

const product = {
  sku: 'MUG-1',
  name: 'Mug',
  description: 'A mug',
  category: 'kitchen',
  price: { amount: 1299, currency: 'EUR' },
  initialStock: 10,
};

describe('command API against the real broker', () => {
  let config: Config;
  let api: RunningCommandApi;
  let admin: string;
  let customer: string;
  let topics: ReturnType<typeof topicNames>;

  beforeAll(async () => {
    config = await isolatedConfig('cmdapi', { COMMAND_TIMEOUT_MS: '15000' });
    topics = topicNames(config.topics);
    api = await startCommandApi(config);
    admin = await tokenFor(config, 'admin', 'alice');
    customer = await tokenFor(config, 'customer', 'c-1');
  });
  afterAll(() => api.stop());

  const allEvents = async () => [
    ...(await readEvents(config, topics.productEvents)),
    ...(await readEvents(config, topics.orderEvents)),
  ];

  it('creates a product: 201 with its event, a Location and a consistency token', async () => {
    const res = await call(api.url, 'POST', '/products', { token: admin, body: product });
    expect(res.status).toBe(201);
    const id = res.body.aggregateId as string;
    expect(res.headers.get('location')).toBe(`/products/${id}`);
    expect(res.headers.get('x-consistency-token')).toBe(res.body.consistencyToken);
    expect(res.body.events).toEqual([
      expect.objectContaining({
        type: 'ProductCreated',
        aggregateVersion: 1,
        data: { productId: id, ...product },
        position: expect.objectContaining({ topic: topics.productEvents }),
      }),
    ]);
  });

  it('answers as its OpenAPI document says, and counts each principal’s requests', async () => {
    const first = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-DOC' },
    });
    expect(acceptedSchema.strict().safeParse(first.body).error?.issues).toBeUndefined();
    const second = await call(api.url, 'GET', `/commands/${first.body.commandId}`, {
      token: admin,
    });
    expect(second.status).toBe(200);
    expect(second.headers.get('ratelimit-policy')).toBe(
      `"per-principal";q=${config.rateLimit.perPrincipal};w=${config.rateLimit.windowSeconds}`,
    );
    const left = (res: typeof first) =>
      Number(/;r=(\d+);/.exec(res.headers.get('ratelimit') ?? '')?.[1]);
    expect(left(second)).toBe(left(first) - 1);
  });

  it('places an order priced from the catalogue, not from the client', async () => {
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-2' },
    });
    const productId = created.body.aggregateId as string;
    const res = await call(api.url, 'POST', '/orders', {
      token: customer,
      body: { items: [{ productId, quantity: 3 }] },
    });
    expect(res.status).toBe(201);
    const [placed] = res.body.events as { type: string; data: Record<string, unknown> }[];
    expect(placed?.type).toBe('OrderPlaced');
    expect(placed?.data).toMatchObject({
      customerId: 'c-1',
      lines: [{ productId, quantity: 3, unitPrice: { amount: 1299, currency: 'EUR' } }],
      total: { amount: 3897, currency: 'EUR' },
    });
    // A price sent by the client is not even accepted.
    const cheat = await call(api.url, 'POST', '/orders', {
      token: customer,
      body: { items: [{ productId, quantity: 1, unitPrice: { amount: 1, currency: 'EUR' } }] },
    });
    expect(cheat.status).toBe(400);
  });

  it('lets a customer cancel its own order, and tells another customer the order does not exist', async () => {
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-4' },
    });
    const order = await call(api.url, 'POST', '/orders', {
      token: customer,
      body: { items: [{ productId: created.body.aggregateId, quantity: 1 }] },
    });
    const orderId = order.body.aggregateId as string;
    const other = await tokenFor(config, 'customer', 'c-2');
    const theirs = await call(api.url, 'POST', `/orders/${orderId}/cancel`, {
      token: other,
      body: {},
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe('order_not_found');
    const own = await call(api.url, 'POST', `/orders/${orderId}/cancel`, {
      token: customer,
      body: { reason: 'changed my mind' },
    });
    expect(own.status).toBe(200);
    expect(own.body.events).toEqual([
      expect.objectContaining({
        type: 'OrderCancelled',
        data: { orderId, customerId: 'c-1', reason: 'changed my mind' },
      }),
    ]);
    const shipAfterCancel = await call(api.url, 'POST', `/orders/${orderId}/ship`, {
      token: admin,
      body: {},
    });
    expect(shipAfterCancel.status).toBe(409);
    expect(shipAfterCancel.body.code).toBe('illegal_transition');
  });

  it('updates details and price in one PATCH', async () => {
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-5' },
    });
    const id = created.body.aggregateId as string;
    const res = await call(api.url, 'PATCH', `/products/${id}`, {
      token: admin,
      body: { name: 'Big mug', price: { amount: 1499, currency: 'EUR' } },
    });
    expect(res.status).toBe(200);
    expect((res.body.events as { type: string }[]).map((e) => e.type)).toEqual([
      'ProductDetailsUpdated',
      'ProductPriceChanged',
    ]);
    const wrongCurrency = await call(api.url, 'PATCH', `/products/${id}`, {
      token: admin,
      body: { name: 'Huge mug', price: { amount: 1499, currency: 'USD' } },
    });
    expect(wrongCurrency.status).toBe(422);
    // The decider's own sentence (domain/money.ts), asked before anything was sent.
    expect(wrongCurrency.body).toMatchObject({
      code: 'currency_mismatch',
      detail: `price is in USD but product ${id} is priced in EUR`,
    });
  });

  it('answers a business refusal with 409 problem+json and its code', async () => {
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-3' },
    });
    const id = created.body.aggregateId as string;
    const service = await tokenFor(config, 'service', 'saga');
    const res = await call(api.url, 'POST', `/products/${id}/reservations`, {
      token: service,
      body: { orderId: 'o-1', quantity: 11 },
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 409,
      code: 'insufficient_stock',
      detail: expect.stringContaining('10'),
    });
  });

  it('sets a purchase limit that reservations then keep to, and lifts it', async () => {
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: { ...product, sku: 'MUG-LIMIT' },
    });
    const id = created.body.aggregateId as string;
    const setLimit = (limit: unknown) =>
      call(api.url, 'POST', `/products/${id}/purchase-limit`, { token: admin, body: { limit } });
    const limited = await setLimit(2);
    expect(limited.status).toBe(200);
    expect(limited.body.events).toEqual([
      expect.objectContaining({
        type: 'ProductPurchaseLimitSet',
        data: { productId: id, limit: 2 },
      }),
    ]);
    expect((await setLimit(0)).body).toMatchObject({
      status: 400,
      errors: [expect.objectContaining({ field: 'limit' })],
    });
    const service = await tokenFor(config, 'service', 'saga');
    const reserve = (orderId: string, quantity: number) =>
      call(api.url, 'POST', `/products/${id}/reservations`, {
        token: service,
        body: { orderId, quantity },
      });
    expect((await reserve('o-1', 3)).body).toMatchObject({
      status: 409,
      code: 'purchase_limit_exceeded',
    });
    expect((await reserve('o-2', 2)).status).toBe(200);
    expect((await setLimit(null)).body.events).toEqual([
      expect.objectContaining({ data: { productId: id, limit: null } }),
    ]);
    expect((await reserve('o-3', 3)).status).toBe(200);
  });

  describe('idempotency', () => {
    it('answers 5 sequential and 5 concurrent repeats of one Idempotency-Key with one set of events and the same body', async () => {
      const send = () =>
        call(api.url, 'POST', '/products', {
          token: admin,
          body: { ...product, sku: 'IDEM-1' },
          headers: { 'Idempotency-Key': 'create-idem-1' },
        });
      const sequential = [];
      for (let i = 0; i < 5; i += 1) sequential.push(await send());
      const concurrent = await Promise.all(Array.from({ length: 5 }, send));
      const all = [...sequential, ...concurrent];
      expect(all.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(all.map((r) => r.text)).size).toBe(1);

      const id = all[0]?.body.aggregateId;
      const events = (await readEvents(config, topics.productEvents)).filter(
        (e) => e.aggregateId === id,
      );
      expect(events.map((e) => e.type)).toEqual(['ProductCreated']);
    });

    it('refuses the same key with a different body (422) and leaves the first outcome in place', async () => {
      const headers = { 'Idempotency-Key': 'create-idem-2' };
      const first = await call(api.url, 'POST', '/products', {
        token: admin,
        body: { ...product, sku: 'IDEM-2' },
        headers,
      });
      const other = await call(api.url, 'POST', '/products', {
        token: admin,
        body: { ...product, sku: 'IDEM-X' },
        headers,
      });
      expect(first.status).toBe(201);
      expect(other.status).toBe(422);
      expect(other.body.code).toBe('idempotency_key_reused');
      const again = await call(api.url, 'POST', '/products', {
        token: admin,
        body: { ...product, sku: 'IDEM-2' },
        headers,
      });
      expect(again.text).toBe(first.text);
    });

    it('reports a command’s outcome later at GET /commands/{id}', async () => {
      const res = await call(api.url, 'POST', '/products', {
        token: admin,
        body: { ...product, sku: 'LATER' },
      });
      const later = await call(api.url, 'GET', `/commands/${res.body.commandId}`, { token: admin });
      expect(later.status).toBe(200);
      expect(later.body).toEqual(res.body);
      const stranger = await call(api.url, 'GET', `/commands/${res.body.commandId}`, {
        token: customer,
      });
      expect(stranger.status).toBe(404);
    });
  });

  describe('bad input changes nothing', () => {
    let productId: string;
    beforeAll(async () => {
      productId = (
        await call(api.url, 'POST', '/products', { token: admin, body: { ...product, sku: 'BAD' } })
      ).body.aggregateId as string;
    });

    const expired = () =>
      issueToken(config.jwt, 'alice', 'admin', Math.floor(Date.now() / 1000) - 60);
    const forged = () =>
      new SignJWT({ role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('mallory')
        .setIssuer(config.jwt.issuer)
        .setAudience(config.jwt.audience)
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('a-different-secret-that-is-long-enough-to-sign'));

    it.each([
      [
        'malformed JSON',
        400,
        () => ({ path: '/products', token: admin, body: '{"sku": ' }),
        undefined,
      ],
      [
        'a wrong type',
        400,
        () => ({
          path: '/products',
          token: admin,
          body: { ...product, price: { amount: '12', currency: 'EUR' } },
        }),
        'price.amount',
      ],
      [
        'a negative quantity',
        400,
        () => ({ path: `/products/${productId}/restock`, token: admin, body: { quantity: -5 } }),
        'quantity',
      ],
      [
        'a zero quantity in an order',
        400,
        () => ({ path: '/orders', token: customer, body: { items: [{ productId, quantity: 0 }] } }),
        'items[0].quantity',
      ],
      [
        'an unknown product',
        422,
        () => ({
          path: '/orders',
          token: customer,
          body: { items: [{ productId: 'no-such-product', quantity: 1 }] },
        }),
        'items[0].productId',
      ],
      [
        'an unknown field',
        400,
        () => ({ path: '/products', token: admin, body: { ...product, color: 'red' } }),
        'color',
      ],
      [
        'a 10 MB body',
        413,
        () => ({
          path: '/products',
          token: admin,
          body: { ...product, description: 'x'.repeat(10 * 1024 * 1024) },
        }),
        undefined,
      ],
      ['no token', 401, () => ({ path: '/products', token: undefined, body: product }), undefined],
      [
        'a customer on an admin route',
        403,
        () => ({ path: '/products', token: customer, body: product }),
        undefined,
      ],
    ] as const)('%s → %i problem+json naming the field', async (_name, status, request, field) => {
      const before = (await allEvents()).length;
      const { path, token, body } = request();
      const res = await call(api.url, 'POST', path, { token, body });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(status);
      if (field)
        expect((res.body.errors as { field: string }[]).map((e) => e.field)).toContain(field);
      expect((await allEvents()).length).toBe(before);
    });

    it.each([
      ['an expired token', expired],
      ['a forged token', forged],
    ])('%s → 401, nothing appended', async (_name, makeToken) => {
      const before = (await allEvents()).length;
      const res = await call(api.url, 'POST', '/products', {
        token: await makeToken(),
        body: product,
      });
      expect(res.status).toBe(401);
      expect(res.body.detail).toMatch(/expired|not valid/);
      expect((await allEvents()).length).toBe(before);
    });
  });

  it('documents every route in /openapi.json', async () => {
    const res = await call(api.url, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    const documented = new Set(
      Object.entries(openApiDocument.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const served = new Set(servedRoutes(api.app));
    expect(served.size).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual([...served].sort());
  });
});
