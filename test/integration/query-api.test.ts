import { randomBytes, randomInt } from 'node:crypto';
import type { Pool } from 'pg';
import { z } from 'zod';
import { encodeConsistencyToken, type LogPosition } from '../../lib/consistency-token';
import { issueToken, type Role } from '../../lib/http/auth';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createShardPools } from '../../lib/postgres';
import { createRedis, type Redis } from '../../lib/redis';
import { ShardingRing } from '../../lib/sharding-ring';
import { topicNames } from '../../lib/topics';
import { createQueryApi, type QueryApi, type QueryApiOptions } from '../../query-api/app';
import { openApiDocument } from '../../query-api/http/openapi';
import {
  bestSellerSchema,
  categorySchema,
  historyEntrySchema,
  orderPageSchema,
  orderSchema,
  productPageSchema,
  productSchema,
  readinessSchema,
  stockSchema,
} from '../../query-api/http/response-schemas';
import { dropGeneration, ensureGeneration, switchGeneration } from '../../read-models/postgres';
import { switchViewsGeneration } from '../../read-models/views/keys';
import { call, type HttpResult, servedRoutes } from '../support/command-api';
import {
  createDatabases,
  dropDatabases,
  keyOnShard,
  type OrderFixture,
  type ProductFixture,
  ReadModelFixture,
  ViewsFixture,
} from '../support/query-fixtures';
import { freePort, runConfig, runId, silentLogger } from '../support/test-env';

/**
 * The query API over the run's shard databases and Redis, with fixtures written straight into
 * a generation of this file's own (a projection name of its own points shard 0 at it, so the
 * shared `read-model` pointer is never touched) and a Redis key prefix of its own.
 */

const hex = randomBytes(3).toString('hex');
const PROJECTION = `read-model-qapi-${hex}`;
const SWITCH_PROJECTION = `read-model-qapi-switch-${hex}`;
/** Generations far above any a projector of this run would build. */
const G = 1_000_000_000 + randomInt(0, 500_000_000);
const G_BLUE = G + 1;
const G_GREEN = G + 2;
const VIEWS_G = 3;
const KEY_PREFIX = `${process.env.REDIS_KEY_PREFIX ?? 'ostest:'}qapi-${hex}:`;
const WAIT_MS = 1500;
const PARTITIONS = 3;
/** Checkpoint every fixture store starts at, on every partition. */
const APPLIED = 100;

const baseConfig = runConfig({
  REDIS_KEY_PREFIX: KEY_PREFIX,
  CONSISTENCY_WAIT_MS: String(WAIT_MS),
  FOLLOWER_MAX_LAG: '5',
  HEALTH_TIMEOUT_MS: '1000',
});
const topics = topicNames(baseConfig.topics);
const EVENT_TOPICS = [topics.productEvents, topics.orderEvents];
const leaderUrls = baseConfig.postgres.shardUrls;
const ring = new ShardingRing(leaderUrls.length);
const followerNames = leaderUrls.map((_, i) => `ostest_${runId()}_qf_shard_${i}`);
const options: QueryApiOptions = { readModelProjection: PROJECTION };

interface Running {
  api: QueryApi;
  server: RunningServer;
  url: string;
}

const running: Running[] = [];

async function start(
  overrides: NodeJS.ProcessEnv = {},
  opts: QueryApiOptions = options,
): Promise<Running> {
  const api = createQueryApi(
    runConfig({
      REDIS_KEY_PREFIX: KEY_PREFIX,
      CONSISTENCY_WAIT_MS: String(WAIT_MS),
      FOLLOWER_MAX_LAG: '5',
      HEALTH_TIMEOUT_MS: '1000',
      ...overrides,
    }),
    silentLogger(),
    opts,
  );
  const server = await listen(api.app, '127.0.0.1', 0);
  const r = { api, server, url: server.url };
  running.push(r);
  return r;
}

const tokens: Partial<Record<string, string>> = {};
async function tokenFor(role: Role, subject: string): Promise<string> {
  const key = `${role}:${subject}`;
  const token = tokens[key] ?? (await issueToken(baseConfig.jwt, subject, role));
  tokens[key] = token;
  return token;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- fixtures ----

/** Products spread over every shard; equal prices (ties broken by id, "C" order) included. */
function catalogue(): ProductFixture[] {
  const products: ProductFixture[] = [];
  for (let shard = 0; shard < ring.size; shard++) {
    for (let i = 0; i < 5; i++) {
      const productId = keyOnShard(ring, `qp-${hex}`, shard, i);
      products.push({
        productId,
        category: i % 2 === 0 ? 'kitchen' : 'garden',
        // Prices 100…700 in steps with many ties across shards.
        price: 100 * (1 + ((shard + i * 3) % 7)),
        discontinued: shard === 1 && i === 2,
      });
    }
  }
  // Ids that sort differently by "C" and by a linguistic collation, on equal prices.
  products.push({ productId: `Qp-${hex}-B`, category: 'kitchen', price: 300 });
  products.push({ productId: `qp-${hex}-a`, category: 'kitchen', price: 300 });
  products.push({ productId: `qp-${hex}-_`, category: 'kitchen', price: 300 });
  return products;
}

const products = catalogue();
const listed = products
  .filter((p) => !p.discontinued)
  .sort(
    (a, b) =>
      a.price - b.price || Buffer.compare(Buffer.from(a.productId), Buffer.from(b.productId)),
  );
const discontinued = products.find((p) => p.discontinued) as ProductFixture;

const ALICE = `alice-${hex}`;
/** On another shard than Alice. */
const BOB = keyOnShard(ring, `bob-${hex}`, (ring.shardFor(ALICE) + 1) % ring.size);
const someProduct = listed[0] as ProductFixture;

/** Alice's orders, newest first as the listing must return them (two share a placed-at). */
const aliceOrders: OrderFixture[] = [
  {
    orderId: `o-${hex}-5`,
    customerId: ALICE,
    placedAt: '2025-03-05T10:00:00.000002Z',
    status: 'pending',
    lines: [{ productId: someProduct.productId, quantity: 1, price: 100 }],
  },
  {
    orderId: `o-${hex}-4b`,
    customerId: ALICE,
    placedAt: '2025-03-05T10:00:00.000001Z',
    status: 'confirmed',
    paymentId: 'pay-4b',
    lines: [{ productId: someProduct.productId, quantity: 2, price: 100 }],
    history: ['OrderPlaced', 'OrderStockReserved', 'OrderPaymentAuthorized', 'OrderConfirmed'],
  },
  {
    orderId: `o-${hex}-4a`,
    customerId: ALICE,
    placedAt: '2025-03-05T10:00:00.000001Z',
    status: 'shipped',
    trackingNumber: 'TRK-1',
    lines: [
      { productId: someProduct.productId, quantity: 3, price: 100 },
      { productId: `qp-${hex}-a`, quantity: 1, price: 300 },
    ],
    history: [
      'OrderPlaced',
      'OrderStockReserved',
      'OrderStockReserved',
      'OrderPaymentAuthorized',
      'OrderConfirmed',
      'OrderShipped',
    ],
  },
  {
    orderId: `o-${hex}-2`,
    customerId: ALICE,
    placedAt: '2025-03-02T08:00:00Z',
    status: 'cancelled',
    cancelReason: 'changed my mind',
    lines: [{ productId: someProduct.productId, quantity: 1, price: 100 }],
    history: ['OrderPlaced', 'OrderCancelled'],
  },
  {
    orderId: `o-${hex}-1`,
    customerId: ALICE,
    placedAt: '2025-03-01T08:00:00Z',
    status: 'confirmed',
    lines: [{ productId: someProduct.productId, quantity: 5, price: 100 }],
  },
];
const bobOrder: OrderFixture = {
  orderId: `o-${hex}-bob`,
  customerId: BOB,
  placedAt: '2025-03-03T08:00:00Z',
  lines: [{ productId: someProduct.productId, quantity: 1, price: 100 }],
};

/** One order per progress value, in the listing's order (newest first). */
const CAROL = `carol-${hex}`;
const progressCases: [string, Partial<OrderFixture>][] = [
  [
    'pending_stock',
    {
      status: 'pending',
      lines: [
        { productId: someProduct.productId, quantity: 1, price: 100, reserved: true },
        { productId: `qp-${hex}-a`, quantity: 1, price: 300, reserved: false },
      ],
    },
  ],
  [
    'pending_payment',
    {
      status: 'pending',
      lines: [
        { productId: someProduct.productId, quantity: 1, price: 100, reserved: true },
        { productId: `qp-${hex}-a`, quantity: 1, price: 300, reserved: true },
      ],
    },
  ],
  ['confirmed', { status: 'confirmed', paymentId: 'pay-c' }],
  ['cancelled', { status: 'cancelled', cancelReason: 'payment declined' }],
  ['shipped', { status: 'shipped', paymentId: 'pay-s', trackingNumber: 'TRK-C' }],
  ['delivered', { status: 'delivered', paymentId: 'pay-d', trackingNumber: 'TRK-D' }],
  ['returned', { status: 'returned', paymentId: 'pay-r', returnReason: 'too small' }],
];
const carolOrders: OrderFixture[] = progressCases.map(([progress, o], i) => ({
  orderId: `o-${hex}-carol-${progress}`,
  customerId: CAROL,
  placedAt: `2025-04-0${9 - i}T08:00:00Z`,
  lines: [{ productId: someProduct.productId, quantity: 1, price: 100, reserved: true }],
  ...o,
}));

const tokenOf = (...positions: [string, number, number | string][]) =>
  encodeConsistencyToken(
    positions.map(
      ([topic, partition, offset]): LogPosition => ({
        topic,
        partition,
        offset: String(offset),
      }),
    ),
  );

describe('query API over the run’s shard databases and Redis', () => {
  let leaders: Pool[];
  let followerUrls: string[];
  let followers: Pool[];
  let redis: Redis;
  let model: ReadModelFixture;
  let followerModel: ReadModelFixture;
  let views: ViewsFixture;
  let main: Running;
  let admin: string;
  let alice: string;
  let bob: string;
  let service: string;

  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    call(main.url, 'GET', path, { token: token ?? admin, headers });

  beforeAll(async () => {
    expect(leaderUrls.length).toBeGreaterThanOrEqual(2);
    leaders = createShardPools(leaderUrls, 2);
    redis = createRedis(baseConfig.redis.url);

    await ensureGeneration(leaderUrls, G);
    await switchGeneration(leaders[0] as Pool, G, PROJECTION);
    model = new ReadModelFixture(leaders, ring, G);
    for (const p of products) await model.product(p);
    for (const o of [...aliceOrders, bobOrder, ...carolOrders]) await model.order(o);
    await model.checkpointAll(EVENT_TOPICS, PARTITIONS, APPLIED);

    followerUrls = await createDatabases(baseConfig.postgres.adminUrl, followerNames);
    followers = createShardPools(followerUrls, 2);
    await ensureGeneration(followerUrls, G);
    followerModel = new ReadModelFixture(followers, ring, G);
    // The follower's copy is told apart by its names.
    for (const p of products)
      await followerModel.product({ ...p, name: `${p.productId} (follower)` });
    for (const o of [...aliceOrders, bobOrder]) await followerModel.order(o);
    await followerModel.checkpointAll(EVENT_TOPICS, PARTITIONS, APPLIED);

    views = new ViewsFixture(redis, KEY_PREFIX, VIEWS_G);
    await switchViewsGeneration(redis, KEY_PREFIX, VIEWS_G);
    for (const p of products) await views.product({ ...p, available: p.price / 100 });
    await views.categories({ kitchen: 12, garden: 8, Zebra: 1, 'ä-umlaut': 2 });
    await views.bestseller(someProduct.productId, 40);
    await views.bestseller(`qp-${hex}-a`, 25);
    await views.bestseller(`Qp-${hex}-B`, 25);
    await views.bestseller(`qp-${hex}-gone`, 3);
    for (const topic of EVENT_TOPICS) {
      for (let p = 0; p < PARTITIONS; p++) await views.checkpoint(topic, p, APPLIED);
    }

    main = await start();
    [admin, alice, bob, service] = await Promise.all([
      tokenFor('admin', 'root'),
      tokenFor('customer', ALICE),
      tokenFor('customer', BOB),
      tokenFor('service', 'saga'),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(
      running.map(async (r) => {
        await r.server.close();
        await r.api.close();
      }),
    );
    await Promise.allSettled([...(followers ?? []), ...leaders].map((p) => p.end()));
    await dropGeneration(leaderUrls, G).catch(() => undefined);
    await dropGeneration(leaderUrls, G_BLUE).catch(() => undefined);
    await dropGeneration(leaderUrls, G_GREEN).catch(() => undefined);
    const cleanup = createShardPools([leaderUrls[0] as string], 1)[0] as Pool;
    await cleanup.query('delete from public.projection_generations where projection = any($1)', [
      [PROJECTION, SWITCH_PROJECTION],
    ]);
    await cleanup.end();
    await dropDatabases(baseConfig.postgres.adminUrl, followerNames);
    const keys = await redis.keys(`${KEY_PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }, 60_000);

  describe('catalogue', () => {
    it('pages through every product on every shard exactly once, in (price, id) order', async () => {
      expect(new Set(listed.map((p) => ring.shardFor(p.productId))).size).toBe(ring.size);
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=4&cursor=${cursor}` : '?limit=4';
        const res: HttpResult = await get(`/products${query}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-read-from')).toBe('leader');
        const items = res.body.items as { productId: string }[];
        pageSizes.push(items.length);
        seen.push(...items.map((p) => p.productId));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual(listed.map((p) => p.productId));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).not.toContain(discontinued.productId);
      expect(pageSizes.slice(0, -1).every((n) => n === 4)).toBe(true);
    });

    it('answers products in camelCase with money as { amount, currency }', async () => {
      const res = await get('/products?limit=1');
      expect(res.body).toEqual({
        items: [
          {
            productId: someProduct.productId,
            sku: `SKU-${someProduct.productId}`,
            name: `Product ${someProduct.productId}`,
            description: '',
            category: someProduct.category,
            price: { amount: someProduct.price, currency: 'EUR' },
            available: 10,
            reserved: 0,
            sold: 0,
            discontinued: false,
            version: 1,
            createdAt: '2025-03-01T09:00:00.000Z',
            updatedAt: '2025-03-01T09:30:00.000Z',
          },
        ],
        nextCursor: expect.any(String),
      });
      expect((await get('/products')).body.items).toHaveLength(20);
    });

    it('filters by category and price range, and pages within the filter', async () => {
      const expected = listed
        .filter((p) => p.category === 'kitchen' && p.price >= 200 && p.price <= 500)
        .map((p) => p.productId);
      expect(expected.length).toBeGreaterThan(3);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: HttpResult = await get(
          `/products?category=kitchen&minPrice=200&maxPrice=500&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        seen.push(...(res.body.items as { productId: string }[]).map((p) => p.productId));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual(expected);
      const none = await get('/products?category=nothing-here');
      expect(none.body).toEqual({ items: [], nextCursor: null });
    });

    it.each([
      ['cursor=not-a-cursor', 'cursor'],
      ['cursor=eyJrIjoib3JkZXJzIn0', 'cursor'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1&limit=2', 'limit'],
      ['minPrice=-1', 'minPrice'],
      ['maxPrice=1.5', 'maxPrice'],
      ['minPrice=abc&maxPrice=5', 'minPrice'],
      ['minPrice=99999999999999999', 'minPrice'],
      ['minPrice=500&maxPrice=100', 'minPrice'],
      ['colour=red', 'colour'],
    ])('refuses ?%s with a 400 problem naming %s', async (query, field) => {
      const res = await get(`/products?${query}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status: 400,
        errors: [expect.objectContaining({ field })],
      });
    });

    it('refuses a customer-orders cursor on the product listing', async () => {
      const page = await get(`/customers/${ALICE}/orders?limit=1`);
      const res = await get(`/products?cursor=${page.body.nextCursor}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);
    });

    it('answers one product from its shard, discontinued too; 404 for an unknown id', async () => {
      const one = await get(`/products/${someProduct.productId}`, service);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({
        productId: someProduct.productId,
        price: { amount: someProduct.price, currency: 'EUR' },
      });
      const gone = await get(`/products/${discontinued.productId}`, alice);
      expect(gone.body).toMatchObject({ productId: discontinued.productId, discontinued: true });
      const unknown = await get(`/products/nope-${hex}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ status: 404, detail: `no product nope-${hex}` });
    });

    it('answers live stock from the Redis product card; 404 for an unknown id', async () => {
      const res = await get(`/products/${someProduct.productId}/stock`, alice);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        productId: someProduct.productId,
        available: someProduct.price / 100,
        discontinued: false,
      });
      const gone = await get(`/products/${discontinued.productId}/stock`);
      expect(gone.body).toMatchObject({ discontinued: true });
      expect((await get(`/products/nope-${hex}/stock`)).status).toBe(404);
    });

    it('answers the categories with their counts, sorted by name', async () => {
      const res = await get('/categories', bob);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual([
        { category: 'Zebra', count: 1 },
        { category: 'garden', count: 8 },
        { category: 'kitchen', count: 12 },
        { category: 'ä-umlaut', count: 2 },
      ]);
    });

    it('answers the best sellers, highest first, with names, up to the limit', async () => {
      const res = await get('/products/best-sellers?limit=3', service);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual([
        {
          productId: someProduct.productId,
          name: `Product ${someProduct.productId}`,
          unitsSold: 40,
        },
        { productId: `qp-${hex}-a`, name: `Product qp-${hex}-a`, unitsSold: 25 },
        { productId: `Qp-${hex}-B`, name: `Product Qp-${hex}-B`, unitsSold: 25 },
      ]);
      const all = JSON.parse((await get('/products/best-sellers')).text) as unknown[];
      expect(all).toHaveLength(4);
      expect(all[3]).toEqual({ productId: `qp-${hex}-gone`, name: null, unitsSold: 3 });
      expect((await get('/products/best-sellers?limit=0')).status).toBe(400);
    });
  });

  describe('orders', () => {
    const order4a = aliceOrders[2] as OrderFixture;

    it('answers an order with its lines, from whichever shard holds it', async () => {
      expect(ring.shardFor(ALICE)).not.toBe(ring.shardFor(BOB));
      const res = await get(`/orders/${order4a.orderId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-from')).toBe('leader');
      expect(res.body).toEqual({
        orderId: order4a.orderId,
        customerId: ALICE,
        status: 'shipped',
        progress: 'shipped',
        total: { amount: 600, currency: 'EUR' },
        paymentId: null,
        trackingNumber: 'TRK-1',
        cancelReason: null,
        returnReason: null,
        version: 6,
        placedAt: '2025-03-05T10:00:00.000Z',
        updatedAt: '2025-03-05T10:00:00.000Z',
        lines: [
          {
            lineNo: 0,
            productId: someProduct.productId,
            quantity: 3,
            unitPrice: { amount: 100, currency: 'EUR' },
            stockReserved: true,
          },
          {
            lineNo: 1,
            productId: `qp-${hex}-a`,
            quantity: 1,
            unitPrice: { amount: 300, currency: 'EUR' },
            stockReserved: false,
          },
        ],
      });
      expect((await get(`/orders/${bobOrder.orderId}`, bob)).status).toBe(200);
    });

    it.each(
      progressCases.map(([progress], i) => [progress, carolOrders[i] as OrderFixture] as const),
    )('answers progress %s for the order and in the customer’s list', async (progress, order) => {
      const one = await get(`/orders/${order.orderId}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({
        orderId: order.orderId,
        status: order.status,
        progress,
        cancelReason: order.cancelReason ?? null,
      });
      const list = await get(`/customers/${CAROL}/orders?limit=100`);
      const items = list.body.items as Record<string, unknown>[];
      expect(items.find((o) => o.orderId === order.orderId)).toMatchObject({
        status: order.status,
        progress,
      });
    });

    it('answers the progress of every order of a page from its lines, filtered or not', async () => {
      const carol = await tokenFor('customer', CAROL);
      const all = await get(`/customers/${CAROL}/orders?limit=3`, carol);
      expect(all.status).toBe(200);
      expect((all.body.items as Record<string, unknown>[]).map((o) => o.progress)).toEqual([
        'pending_stock',
        'pending_payment',
        'confirmed',
      ]);
      const pending = await get(`/customers/${CAROL}/orders?status=pending`);
      expect((pending.body.items as Record<string, unknown>[]).map((o) => o.progress)).toEqual([
        'pending_stock',
        'pending_payment',
      ]);
      // The fixtures' default: line 0 reserved, and Alice's pending order has only that one.
      const alices = await get(`/customers/${ALICE}/orders?status=pending`, alice);
      expect(alices.body.items).toEqual([
        expect.objectContaining({ orderId: `o-${hex}-5`, progress: 'pending_payment' }),
      ]);
    });

    it('answers the history in aggregate-version order', async () => {
      const res = await get(`/orders/${order4a.orderId}/history`, alice);
      expect(res.status).toBe(200);
      const history = JSON.parse(res.text) as Record<string, unknown>[];
      expect(history.map((h) => [h.aggregateVersion, h.type])).toEqual([
        [1, 'OrderPlaced'],
        [2, 'OrderStockReserved'],
        [3, 'OrderStockReserved'],
        [4, 'OrderPaymentAuthorized'],
        [5, 'OrderConfirmed'],
        [6, 'OrderShipped'],
      ]);
      expect(history[0]).toEqual({
        type: 'OrderPlaced',
        aggregateVersion: 1,
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        occurredAt: '2025-03-05T10:00:01.000Z',
        data: { orderId: order4a.orderId, customerId: ALICE, step: 1 },
      });
    });

    it('keeps a customer to its own orders: another’s order is 404, another’s list 403', async () => {
      for (const path of [`/orders/${order4a.orderId}`, `/orders/${order4a.orderId}/history`]) {
        expect((await get(path, alice)).status).toBe(200);
        const theirs = await get(path, bob);
        expect(theirs.status).toBe(404);
        expect(theirs.body.detail).toBe(`no order ${order4a.orderId}`);
        expect((await get(path, service)).status).toBe(200);
      }
      const list = await get(`/customers/${ALICE}/orders`, bob);
      expect(list.status).toBe(403);
      expect(list.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await get(`/customers/${ALICE}/orders`, service)).status).toBe(200);
    });

    it('answers 404 for an unknown order', async () => {
      expect((await get(`/orders/nope-${hex}`)).status).toBe(404);
      expect((await get(`/orders/nope-${hex}/history`)).status).toBe(404);
    });

    it('pages a customer’s orders newest first, ties on placed-at broken by id', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res: HttpResult = await get(
          `/customers/${ALICE}/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          alice,
        );
        expect(res.status).toBe(200);
        const items = res.body.items as Record<string, unknown>[];
        expect(items.length).toBeLessThanOrEqual(2);
        for (const item of items) expect(item).not.toHaveProperty('lines');
        seen.push(...items.map((o) => o.orderId as string));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual(aliceOrders.map((o) => o.orderId));
      const bobs = await get(`/customers/${BOB}/orders`, bob);
      expect(bobs.body).toEqual({
        items: [expect.objectContaining({ orderId: bobOrder.orderId, status: 'pending' })],
        nextCursor: null,
      });
      expect((await get(`/customers/nobody-${hex}/orders`)).body).toEqual({
        items: [],
        nextCursor: null,
      });
    });

    it('filters a customer’s orders by status, and refuses a bad status or cursor', async () => {
      const confirmed = await get(`/customers/${ALICE}/orders?status=confirmed`, alice);
      expect((confirmed.body.items as { orderId: string }[]).map((o) => o.orderId)).toEqual([
        `o-${hex}-4b`,
        `o-${hex}-1`,
      ]);
      const bad = await get(`/customers/${ALICE}/orders?status=lost`, alice);
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'status' })]);
      const products = await get('/products?limit=1');
      const wrongCursor = await get(
        `/customers/${ALICE}/orders?cursor=${products.body.nextCursor}`,
        alice,
      );
      expect(wrongCursor.status).toBe(400);
      expect(wrongCursor.body.errors).toEqual([expect.objectContaining({ field: 'cursor' })]);
    });
  });

  describe('auth', () => {
    it('needs a valid bearer token on every read', async () => {
      for (const path of [
        '/products',
        `/products/${someProduct.productId}`,
        `/products/${someProduct.productId}/stock`,
        '/products/best-sellers',
        '/categories',
        `/orders/${bobOrder.orderId}`,
        `/orders/${bobOrder.orderId}/history`,
        `/orders/${bobOrder.orderId}/stream`,
        `/customers/${BOB}/orders`,
      ]) {
        const res = await call(main.url, 'GET', path);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        expect((await call(main.url, 'GET', path, { token: 'garbage' })).status).toBe(401);
      }
    });
  });

  describe('consistency token', () => {
    const productOnShard = (shard: number) =>
      listed.find((p) => ring.shardFor(p.productId) === shard) as ProductFixture;

    it('refuses a token this system did not make with a 400 naming the header', async () => {
      const res = await get('/products', admin, { 'X-Consistency-Token': 'not-a-token' });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ field: 'X-Consistency-Token' })]);
    });

    it('answers at once when the store has applied the token, or it names other topics', async () => {
      const started = Date.now();
      const passed = await get('/products?limit=1', admin, {
        'X-Consistency-Token': tokenOf([topics.productEvents, 1, APPLIED]),
      });
      expect(passed.status).toBe(200);
      const other = await get(`/products/${someProduct.productId}/stock`, admin, {
        'X-Consistency-Token': tokenOf([topics.sagaDeadLetter, 0, 1_000_000]),
      });
      expect(other.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(WAIT_MS);
    });

    it('waits for the shard a product read uses, and answers once its checkpoint passes', async () => {
      const product = productOnShard(2);
      const shard = ring.shardFor(product.productId);
      const token = tokenOf([topics.productEvents, 1, APPLIED + 5]);
      const started = Date.now();
      const pending = get(`/products/${product.productId}`, admin, {
        'X-Consistency-Token': token,
      });
      await sleep(300);
      // Other shards moving on is not enough…
      await model.checkpoint(
        topics.productEvents,
        1,
        APPLIED + 5,
        leaderUrls.map((_, i) => i).filter((i) => i !== shard),
      );
      await sleep(200);
      // …the shard it reads is.
      await model.checkpoint(topics.productEvents, 1, APPLIED + 5, [shard]);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body.productId).toBe(product.productId);
      expect(Date.now() - started).toBeGreaterThanOrEqual(480);
    });

    it('waits for every shard on a scatter read', async () => {
      const token = tokenOf([topics.orderEvents, 2, APPLIED + 7]);
      const pending = get(`/orders/${bobOrder.orderId}`, bob, { 'X-Consistency-Token': token });
      const allButLast = leaderUrls.map((_, i) => i).slice(0, -1);
      await model.checkpoint(topics.orderEvents, 2, APPLIED + 7, allButLast);
      await sleep(300);
      const settled = await Promise.race([pending.then(() => 'answered'), sleep(50)]);
      expect(settled).not.toBe('answered');
      await model.checkpoint(topics.orderEvents, 2, APPLIED + 7);
      expect((await pending).status).toBe(200);
    });

    it('times out with a 503 problem and Retry-After: 1', async () => {
      const started = Date.now();
      const res = await get(`/customers/${ALICE}/orders`, alice, {
        'X-Consistency-Token': tokenOf([topics.orderEvents, 0, APPLIED + 1_000]),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(WAIT_MS - 50);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({
        status: 503,
        type: 'urn:orderstream:problem:consistency-timeout',
      });
    });

    it('waits on the Redis views checkpoint for a views read, comparing offsets as bigints', async () => {
      const big = '9007199254740993';
      await views.checkpoint(topics.productEvents, 2, '9007199254740992');
      const pending = get(`/products/${someProduct.productId}/stock`, alice, {
        'X-Consistency-Token': tokenOf([topics.productEvents, 2, big]),
      });
      await sleep(300);
      expect(await Promise.race([pending.then(() => 'answered'), sleep(50)])).not.toBe('answered');
      await views.checkpoint(topics.productEvents, 2, big);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body.productId).toBe(someProduct.productId);

      const late = await get('/categories', alice, {
        'X-Consistency-Token': tokenOf([topics.orderEvents, 1, APPLIED + 1]),
      });
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toBe('1');
    });
  });

  describe('followers', () => {
    let withFollowers: Running;
    const product = () => listed.find((p) => ring.shardFor(p.productId) === 0) as ProductFixture;

    beforeAll(async () => {
      withFollowers = await start({ POSTGRES_FOLLOWER_SHARD_URLS: followerUrls.join(',') });
    });

    beforeEach(async () => {
      await model.checkpointAll(EVENT_TOPICS, PARTITIONS, APPLIED + 10);
      await followerModel.checkpointAll(EVENT_TOPICS, PARTITIONS, APPLIED + 10);
    });

    const read = (path: string, token?: string) =>
      call(withFollowers.url, 'GET', path, {
        token: admin,
        headers: token ? { 'X-Consistency-Token': token } : {},
      });

    it('reads a follower within FOLLOWER_MAX_LAG of its leader', async () => {
      await model.checkpoint(topics.productEvents, 0, APPLIED + 15);
      const one = await read(`/products/${product().productId}`);
      expect(one.headers.get('x-read-from')).toBe('follower');
      expect(one.body.name).toBe(`${product().productId} (follower)`);
      const all = await read('/products?limit=3');
      expect(all.status).toBe(200);
      expect(all.headers.get('x-read-from')).toBe('follower');
      const order = await read(`/orders/${bobOrder.orderId}`);
      expect(order.headers.get('x-read-from')).toBe('follower');
    });

    it('reads the leader when the follower lags further behind on any partition', async () => {
      await model.checkpoint(topics.orderEvents, 2, APPLIED + 16);
      const res = await read(`/products/${product().productId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-from')).toBe('leader');
      expect(res.body.name).toBe(`Product ${product().productId}`);
    });

    it('reads a follower whose checkpoints satisfy the token, however far the leader is', async () => {
      await model.checkpoint(topics.orderEvents, 2, APPLIED + 1_000);
      const res = await read(
        `/products/${product().productId}`,
        tokenOf([topics.productEvents, 0, APPLIED + 10]),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-from')).toBe('follower');
    });

    it('reads the leader when the follower is behind the token', async () => {
      await model.checkpoint(topics.productEvents, 0, APPLIED + 11);
      const started = Date.now();
      const res = await read(
        `/products/${product().productId}`,
        tokenOf([topics.productEvents, 0, APPLIED + 11]),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-from')).toBe('leader');
      expect(Date.now() - started).toBeLessThan(WAIT_MS);
    });

    it('waits on the leader when neither has the token yet', async () => {
      const token = tokenOf([topics.orderEvents, 1, APPLIED + 20]);
      const pending = read(`/orders/${bobOrder.orderId}`, token);
      await sleep(200);
      await model.checkpoint(topics.orderEvents, 1, APPLIED + 20);
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.headers.get('x-read-from')).toBe('leader');
    });

    it('reports followers in /health/ready', async () => {
      const res = await call(withFollowers.url, 'GET', '/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('ready');
      expect(res.body.dependencies).toMatchObject({
        [`postgres follower 0 (${followerNames[0]})`]: 'up',
        redis: 'up',
      });
    });

    it('never fails a read for a follower that does not answer, and is degraded, not unready', async () => {
      const deadShard = ring.shardFor(product().productId);
      const liveShard = (deadShard + 1) % ring.size;
      const closed = `postgres://postgres@127.0.0.1:${await freePort()}/nowhere`;
      const urls = followerUrls.map((u, i) => (i === deadShard ? closed : u));
      const dead = await start({ POSTGRES_FOLLOWER_SHARD_URLS: urls.join(',') });
      const on = (path: string) => call(dead.url, 'GET', path, { token: admin });

      for (let i = 0; i < 3; i++) {
        const res = await on(`/products/${product().productId}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('x-read-from')).toBe('leader');
      }
      const scatter = await on('/products?limit=2');
      expect(scatter.status).toBe(200);
      expect(scatter.headers.get('x-read-from')).toBe('leader');
      const live = listed.find((p) => ring.shardFor(p.productId) === liveShard) as ProductFixture;
      const other = await on(`/products/${live.productId}`);
      expect(other.status).toBe(200);
      expect(other.headers.get('x-read-from')).toBe('follower');

      const health = await call(dead.url, 'GET', '/health/ready');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('degraded');
      expect(health.body.degraded).toEqual([`postgres follower ${deadShard} (nowhere)`]);
      expect(health.body.dependencies).toMatchObject({
        [`postgres follower ${deadShard} (nowhere)`]: { down: expect.any(String) },
        [`postgres shard ${deadShard} (${leaderUrls[deadShard]?.split('/').pop()})`]: 'up',
      });
    });
  });

  describe('generations', () => {
    it('follows a blue-green switch within a second, and keeps answering across it', async () => {
      const blueGreen = await start({}, { readModelProjection: SWITCH_PROJECTION });
      const productId = `qp-${hex}-switch`;
      await ensureGeneration(leaderUrls, G_BLUE);
      await ensureGeneration(leaderUrls, G_GREEN);
      const blue = new ReadModelFixture(leaders, ring, G_BLUE);
      const green = new ReadModelFixture(leaders, ring, G_GREEN);
      await blue.product({ productId, name: 'blue', category: 'c', price: 1 });
      await green.product({ productId, name: 'green', category: 'c', price: 1 });
      await switchGeneration(leaders[0] as Pool, G_BLUE, SWITCH_PROJECTION);

      const views4 = new ViewsFixture(redis, KEY_PREFIX, VIEWS_G + 1);
      await views4.product({
        productId: someProduct.productId,
        category: 'c',
        price: 1,
        available: 77,
      });
      const name = async () =>
        await call(blueGreen.url, 'GET', `/products/${productId}`, { token: admin });
      expect((await name()).body.name).toBe('blue');

      // Switch both, and drop the old generations at once (harsher than a replay, which waits).
      await switchGeneration(leaders[0] as Pool, G_GREEN, SWITCH_PROJECTION);
      await dropGeneration(leaderUrls, G_BLUE);
      await switchViewsGeneration(redis, KEY_PREFIX, VIEWS_G + 1);
      const switchedAt = Date.now();
      const oldViews = new ViewsFixture(redis, KEY_PREFIX, VIEWS_G);
      const oldCard = await redis.hgetall(oldViews.keys.productKey(someProduct.productId));
      await redis.del(oldViews.keys.productKey(someProduct.productId));

      const names: string[] = [];
      const stock: number[] = [];
      while (Date.now() - switchedAt < 1300) {
        const res = await name();
        expect(res.status).toBe(200);
        names.push(res.body.name as string);
        const s = await call(blueGreen.url, 'GET', `/products/${someProduct.productId}/stock`, {
          token: admin,
        });
        expect(s.status).toBe(200);
        stock.push(s.body.available as number);
        await sleep(50);
      }
      expect(names.at(-1)).toBe('green');
      expect(stock.at(-1)).toBe(77);
      expect(names).not.toContain('blue');

      // Back to the original views for the rest of the file.
      await redis.hset(oldViews.keys.productKey(someProduct.productId), oldCard);
      await switchViewsGeneration(redis, KEY_PREFIX, VIEWS_G);
    });
  });

  it('is ready while every shard and Redis answer', async () => {
    const res = await call(main.url, 'GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(Object.keys(res.body.dependencies as object)).toHaveLength(leaderUrls.length + 1);
  });

  it('answers as its OpenAPI document says: the response schemas parse real answers', async () => {
    const body = async (path: string, token = admin) => {
      const res = await get(path, token);
      expect(res.status).toBe(200);
      return JSON.parse(res.text) as unknown;
    };
    const [placed] = aliceOrders.filter((o) => o.history !== undefined);
    const orderId = placed?.orderId ?? '';
    const expected: [string, z.ZodType][] = [
      ['/products?limit=5', productPageSchema],
      [`/products/${someProduct.productId}`, productSchema],
      [`/products/${someProduct.productId}/stock`, stockSchema],
      ['/products/best-sellers', z.array(bestSellerSchema)],
      ['/categories', z.array(categorySchema)],
      [`/orders/${orderId}`, orderSchema],
      [`/orders/${orderId}/history`, z.array(historyEntrySchema)],
      [`/customers/${ALICE}/orders?limit=2`, orderPageSchema],
      ['/health/ready', readinessSchema],
    ];
    for (const [path, schema] of expected) {
      const parsed = schema.safeParse(await body(path));
      expect({ path, issues: parsed.error?.issues }).toEqual({ path, issues: undefined });
    }
  });

  it('documents every route in /openapi.json', async () => {
    const res = await call(main.url, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    const documented = new Set(
      Object.entries(openApiDocument.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const served = new Set(servedRoutes(main.api.app));
    expect(served.size).toBeGreaterThanOrEqual(11);
    expect([...documented].sort()).toEqual([...served].sort());
  });
});
