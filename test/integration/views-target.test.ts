import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { OrderEvent, OrderLine, ProductEvent } from '../../domain';
import { createRedis, Redis } from '../../lib/redis';
import { type ProjectedEvent, ProjectionPoisonError } from '../../projectors/runtime/projection';
import { ViewsPoisonError, ViewsTarget } from '../../projectors/views/views-target';
import { dumpViewsGeneration, viewsChecksum } from '../../read-models/views/checksum';
import {
  currentViewsGeneration,
  switchViewsGeneration,
  viewsGenerationKey,
  viewsKeys,
  viewsPrefix,
} from '../../read-models/views/keys';
import { prefixPattern } from '../../read-models/views/scan';
import { runConfig, silentLogger } from '../support/test-env';

type DomainEvent = ProductEvent | OrderEvent;

const config = runConfig();
/** Every key of this file lives under it (inside the run's REDIS_KEY_PREFIX); removed after. */
const base = `${config.redis.keyPrefix}views-target-${randomBytes(3).toString('hex')}:`;
const PRODUCTS = `${config.topics.prefix}.product.events`;
const ORDERS = `${config.topics.prefix}.order.events`;
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const eur = (amount: number) => ({ amount, currency: 'EUR' });
const line = (productId: string, quantity: number, amount = 1000): OrderLine => ({
  productId,
  quantity,
  unitPrice: eur(amount),
});

let redis: Redis;
let testNo = 0;
const targets: ViewsTarget[] = [];

/** A key prefix of its own for one test (as REDIS_KEY_PREFIX would be). */
function freshPrefix(): string {
  testNo += 1;
  return `${base}t${testNo}:`;
}

function target(keyPrefix: string, generation = 1, extra: { maxEventsPerCall?: number } = {}) {
  const t = new ViewsTarget({ redis, keyPrefix, generation, logger: silentLogger(), ...extra });
  targets.push(t);
  return t;
}

/** One partition of an event topic: events get consecutive offsets and aggregate versions. */
class PartitionLog {
  readonly events: ProjectedEvent[] = [];
  private nextOffset: bigint;
  private clock = T0;
  private readonly versions = new Map<string, number>();

  constructor(
    readonly topic: string,
    readonly partition = 0,
    firstOffset = 0n,
  ) {
    this.nextOffset = firstOffset;
  }

  /** Appends a domain event; it occurs one second after the previous one unless `at` says. */
  add(event: DomainEvent, at?: number): ProjectedEvent {
    const { type, ...data } = event;
    return this.raw(type, data, at);
  }

  /** Appends anything (an event type no projection knows, for poison tests). */
  raw(type: string, data: Record<string, unknown>, at?: number | string): ProjectedEvent {
    this.clock = typeof at === 'number' ? at : this.clock + 1000;
    const aggregateId = String(data.productId ?? data.orderId ?? 'none');
    const version = (this.versions.get(aggregateId) ?? 0) + 1;
    this.versions.set(aggregateId, version);
    const offset = String(this.nextOffset);
    this.nextOffset += 1n;
    // Built outside the codec, so its type and fields are the test's word (see `raw`).
    const event = {
      topic: this.topic,
      partition: this.partition,
      offset,
      type,
      data,
      meta: {
        eventId: `evt-${this.topic}-${this.partition}-${offset}`,
        aggregateId,
        aggregateVersion: version,
        commandId: `cmd-${offset}`,
        correlationId: `cor-${offset}`,
        causationId: `cmd-${offset}`,
        occurredAt: typeof at === 'string' ? at : new Date(this.clock).toISOString(),
        actor: 'test',
      },
    } as ProjectedEvent;
    this.events.push(event);
    return event;
  }

  /** Skips offsets (transaction markers, records of other projections). */
  gap(n: number): void {
    this.nextOffset += BigInt(n);
  }
}

async function applyAll(t: ViewsTarget, events: ProjectedEvent[], lastOffset?: string) {
  const first = events[0];
  if (!first) throw new Error('applyAll needs events');
  const last = lastOffset ?? (events[events.length - 1] as ProjectedEvent).offset;
  await t.apply(first.topic, first.partition, events, last);
}

/** Applies each event on its own, as the runner might with batches of one. */
async function applyEach(t: ViewsTarget, events: ProjectedEvent[]) {
  for (const e of events) await t.apply(e.topic, e.partition, [e], e.offset);
}

const iso = (e: ProjectedEvent) => e.meta.occurredAt;
const ms = (e: ProjectedEvent) => String(Date.parse(e.meta.occurredAt));

async function keysOf(prefix: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', prefixPattern(prefix), 'COUNT', 1000);
    for (const k of keys) if (k.startsWith(prefix)) found.add(k.slice(prefix.length));
    cursor = next;
  } while (cursor !== '0');
  return [...found].sort();
}

/** A logger whose JSON lines the test can read. */
function capturingLogger(level: string) {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, lines };
}

const zset = (key: string) => redis.zrevrange(key, 0, -1, 'WITHSCORES');

beforeAll(() => {
  redis = createRedis(config.redis.url);
});

afterAll(async () => {
  for (const t of targets) await t.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${base}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

describe('views key layout', () => {
  it('puts every key of generation N under <REDIS_KEY_PREFIX>views:g<N>:', () => {
    const k = viewsKeys('os:', 3);
    expect(k.prefix).toBe('os:views:g3:');
    expect(viewsPrefix('os:', 3)).toBe('os:views:g3:');
    expect(k.productKey('p1')).toBe('os:views:g3:product:p1');
    expect(k.orderKey('o1')).toBe('os:views:g3:order:o1');
    expect(k.orderLinesKey('o1')).toBe('os:views:g3:order:o1:lines');
    expect(k.categoriesKey).toBe('os:views:g3:categories');
    expect(k.bestsellersKey).toBe('os:views:g3:bestsellers');
    expect(k.customerOrdersKey('c1')).toBe('os:views:g3:customer:c1:orders');
    expect(k.checkpointKey).toBe('os:views:g3:checkpoint');
    expect(viewsGenerationKey('os:')).toBe('os:views:generation');
    expect(() => viewsKeys('os:', 0)).toThrow(RangeError);
    expect(() => viewsKeys('os:', 1.5)).toThrow(RangeError);
    expect(target('os:', 7).name).toBe('views@g7');
  });

  it('reads the generation pointer (absent → 1) and switches it', async () => {
    const prefix = freshPrefix();
    expect(await currentViewsGeneration(redis, prefix)).toBe(1);
    await switchViewsGeneration(redis, prefix, 2);
    expect(await redis.get(`${prefix}views:generation`)).toBe('2');
    expect(await currentViewsGeneration(redis, prefix)).toBe(2);
    await redis.set(`${prefix}views:generation`, 'two');
    await expect(currentViewsGeneration(redis, prefix)).rejects.toThrow(/not a generation/);
    await expect(switchViewsGeneration(redis, prefix, 0)).rejects.toThrow(RangeError);
  });
});

describe('ViewsTarget', () => {
  it('maintains every key of the spec for every event type', async () => {
    const prefix = freshPrefix();
    const t = target(prefix);
    const k = t.keys;
    const products = new PartitionLog(PRODUCTS, 0);
    const orders = new PartitionLog(ORDERS, 1);
    const step = async (e: ProjectedEvent) => t.apply(e.topic, e.partition, [e], e.offset);
    const card = () => redis.hgetall(k.productKey('A'));
    const order = (id = 'O1') => redis.hgetall(k.orderKey(id));

    // Products -------------------------------------------------------------------------------
    await step(
      products.add({
        type: 'ProductCreated',
        productId: 'A',
        sku: 'MUG-BLUE',
        name: 'Blue mug',
        description: 'Stoneware',
        category: 'kitchen',
        price: eur(1999),
        initialStock: 40,
      }),
    );
    expect(await card()).toEqual({
      id: 'A',
      sku: 'MUG-BLUE',
      name: 'Blue mug',
      description: 'Stoneware',
      category: 'kitchen',
      priceAmount: '1999',
      currency: 'EUR',
      available: '40',
      discontinued: 'false',
      version: '1',
    });
    expect(await redis.hgetall(k.categoriesKey)).toEqual({ kitchen: '1' });
    expect(await redis.hgetall(k.checkpointKey)).toEqual({ [`${PRODUCTS}:0`]: '0' });

    await step(
      products.add({
        type: 'ProductCreated',
        productId: 'B',
        sku: 'BOWL',
        name: 'Bowl',
        description: 'Glass',
        category: 'kitchen',
        price: eur(450),
        initialStock: 5,
      }),
    );
    expect(await redis.hgetall(k.categoriesKey)).toEqual({ kitchen: '2' });

    await step(
      products.add({
        type: 'ProductDetailsUpdated',
        productId: 'A',
        name: 'Blue mug (large)',
        description: '',
        category: 'dining',
      }),
    );
    expect(await card()).toMatchObject({
      name: 'Blue mug (large)',
      description: '',
      category: 'dining',
      version: '2',
    });
    expect(await redis.hgetall(k.categoriesKey)).toEqual({ kitchen: '1', dining: '1' });

    await step(
      products.add({
        type: 'ProductPriceChanged',
        productId: 'A',
        price: eur(2199),
        previousPrice: eur(1999),
      }),
    );
    expect(await card()).toMatchObject({ priceAmount: '2199', currency: 'EUR', version: '3' });

    await step(
      products.add({ type: 'ProductRestocked', productId: 'A', quantity: 10, available: 50 }),
    );
    expect(await card()).toMatchObject({ available: '50', version: '4' });

    await step(
      products.add({
        type: 'StockReserved',
        productId: 'A',
        orderId: 'O1',
        quantity: 2,
        available: 48,
      }),
    );
    expect(await card()).toMatchObject({ available: '48', version: '5' });

    await step(
      products.add({
        type: 'ReservationReleased',
        productId: 'A',
        orderId: 'O1',
        quantity: 2,
        available: 50,
      }),
    );
    expect(await card()).toMatchObject({ available: '50', version: '6' });

    await step(
      products.add({
        type: 'StockReserved',
        productId: 'A',
        orderId: 'O1',
        quantity: 2,
        available: 48,
      }),
    );
    await step(
      products.add({ type: 'ReservationCommitted', productId: 'A', orderId: 'O1', quantity: 2 }),
    );
    expect(await card()).toMatchObject({ available: '48', version: '8' });

    // Not on the card: its version moves on, nothing else changes.
    await step(products.add({ type: 'ProductPurchaseLimitSet', productId: 'B', limit: 2 }));
    expect(await redis.hgetall(k.productKey('B'))).toMatchObject({ version: '2' });
    await step(products.add({ type: 'ProductDiscontinued', productId: 'B' }));
    expect(await redis.hgetall(k.productKey('B'))).toMatchObject({
      discontinued: 'true',
      version: '3',
    });
    expect(await redis.hgetall(k.categoriesKey)).toEqual({ dining: '1' });
    expect(await card()).toEqual({
      id: 'A',
      sku: 'MUG-BLUE',
      name: 'Blue mug (large)',
      description: '',
      category: 'dining',
      priceAmount: '2199',
      currency: 'EUR',
      available: '48',
      discontinued: 'false',
      version: '8',
    });

    // Orders ---------------------------------------------------------------------------------
    const placed = orders.add({
      type: 'OrderPlaced',
      orderId: 'O1',
      customerId: 'C1',
      lines: [line('A', 2, 2199), line('B', 1, 450)],
      total: eur(4848),
    });
    await step(placed);
    expect(await order()).toEqual({
      id: 'O1',
      customerId: 'C1',
      status: 'pending',
      totalAmount: '4848',
      currency: 'EUR',
      updatedAt: iso(placed),
    });
    expect(await redis.hgetall(k.orderLinesKey('O1'))).toEqual({ A: '2', B: '1' });
    expect(await zset(k.bestsellersKey)).toEqual(['A', '2', 'B', '1']);
    expect(await zset(k.customerOrdersKey('C1'))).toEqual(['O1', ms(placed)]);

    const pendingSteps: DomainEvent[] = [
      { type: 'OrderStockReserved', orderId: 'O1', customerId: 'C1', productId: 'A' },
      {
        type: 'OrderStockRejected',
        orderId: 'O1',
        customerId: 'C1',
        productId: 'B',
        reason: 'none left',
      },
      {
        type: 'OrderPaymentAuthorized',
        orderId: 'O1',
        customerId: 'C1',
        paymentId: 'pay-1',
        amount: eur(4848),
      },
      { type: 'OrderPaymentFailed', orderId: 'O1', customerId: 'C1', reason: 'card declined' },
      {
        type: 'OrderPaymentAuthorized',
        orderId: 'O1',
        customerId: 'C1',
        paymentId: 'pay-2',
        amount: eur(4848),
      },
    ];
    for (const event of pendingSteps) {
      const e = orders.add(event);
      await step(e);
      expect(await order()).toEqual({
        id: 'O1',
        customerId: 'C1',
        status: 'pending',
        totalAmount: '4848',
        currency: 'EUR',
        updatedAt: iso(e),
      });
    }

    const statusSteps: [DomainEvent, string][] = [
      [{ type: 'OrderConfirmed', orderId: 'O1', customerId: 'C1' }, 'confirmed'],
      [
        { type: 'OrderShipped', orderId: 'O1', customerId: 'C1', trackingNumber: 'DHL-1' },
        'shipped',
      ],
      [{ type: 'OrderDelivered', orderId: 'O1', customerId: 'C1' }, 'delivered'],
    ];
    for (const [event, status] of statusSteps) {
      const e = orders.add(event);
      await step(e);
      expect(await order()).toMatchObject({ status, updatedAt: iso(e) });
      expect(await order()).not.toHaveProperty('reason');
    }
    expect(await zset(k.bestsellersKey)).toEqual(['A', '2', 'B', '1']);

    const returned = orders.add({
      type: 'OrderReturned',
      orderId: 'O1',
      customerId: 'C1',
      reason: 'arrived broken',
    });
    await step(returned);
    expect(await order()).toEqual({
      id: 'O1',
      customerId: 'C1',
      status: 'returned',
      totalAmount: '4848',
      currency: 'EUR',
      updatedAt: iso(returned),
      reason: 'arrived broken',
    });
    expect(await zset(k.bestsellersKey)).toEqual([]);

    const placed2 = orders.add({
      type: 'OrderPlaced',
      orderId: 'O2',
      customerId: 'C1',
      lines: [line('A', 3)],
      total: eur(3000),
    });
    await step(placed2);
    expect(await zset(k.bestsellersKey)).toEqual(['A', '3']);
    expect(await zset(k.customerOrdersKey('C1'))).toEqual(['O2', ms(placed2), 'O1', ms(placed)]);

    const cancelled = orders.add({
      type: 'OrderCancelled',
      orderId: 'O2',
      customerId: 'C1',
      reason: 'changed my mind',
    });
    await step(cancelled);
    expect(await order('O2')).toEqual({
      id: 'O2',
      customerId: 'C1',
      status: 'cancelled',
      totalAmount: '3000',
      currency: 'EUR',
      updatedAt: iso(cancelled),
      reason: 'changed my mind',
    });
    expect(await zset(k.bestsellersKey)).toEqual([]);
    expect(await redis.hgetall(k.orderLinesKey('O2'))).toEqual({ A: '3' });

    expect(await redis.hgetall(k.checkpointKey)).toEqual({
      [`${PRODUCTS}:0`]: String(products.events.length - 1),
      [`${ORDERS}:1`]: String(orders.events.length - 1),
    });
    // Nothing else was written, and nothing outside the generation.
    expect(await keysOf(prefix)).toEqual(
      [
        'categories',
        'checkpoint',
        'customer:C1:orders',
        'order:O1',
        'order:O1:lines',
        'order:O2',
        'order:O2:lines',
        'product:A',
        'product:B',
      ].map((key) => `views:g1:${key}`),
    );
    const resume = await t.resumeOffsets(ORDERS, [0, 1, 2]);
    expect(resume).toEqual(
      new Map([
        [0, 0n],
        [1, BigInt(orders.events.length)],
        [2, 0n],
      ]),
    );
  });

  it('changes nothing when the same batch is applied twice', async () => {
    const prefix = freshPrefix();
    const t = target(prefix);
    const { products, orders } = realisticLogs();
    for (const log of [...products, ...orders]) await applyAll(t, log.events);
    const first = await viewsChecksum(redis, prefix, 1);
    const dump = await dumpViewsGeneration(redis, prefix, 1);
    expect(dump.length).toBeGreaterThan(10);
    for (const log of [...products, ...orders]) await applyAll(t, log.events);
    for (const log of orders) await applyEach(t, log.events);
    expect(await viewsChecksum(redis, prefix, 1)).toBe(first);
    expect(await dumpViewsGeneration(redis, prefix, 1)).toEqual(dump);
  });

  it('applies only the events above the checkpoint of a batch that overlaps it', async () => {
    const prefix = freshPrefix();
    const { logger, lines } = capturingLogger('debug');
    const overlapping = new ViewsTarget({ redis, keyPrefix: prefix, generation: 1, logger });
    targets.push(overlapping);
    const once = target(prefix, 2);
    const log = new PartitionLog(ORDERS, 0);
    for (let i = 0; i < 8; i++) {
      log.add({
        type: 'OrderPlaced',
        orderId: `O${i}`,
        customerId: `C${i % 3}`,
        lines: [line('A', 1), line(`P${i}`, 2)],
        total: eur(3000),
      });
    }
    await applyAll(overlapping, log.events.slice(0, 5));
    await applyAll(overlapping, log.events.slice(2));
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ applied: 5, skipped: 0, checkpoint: '4' }),
      expect.objectContaining({ applied: 3, skipped: 3, checkpoint: '7' }),
    ]);
    await applyAll(once, log.events);

    expect(await redis.zscore(overlapping.keys.bestsellersKey, 'A')).toBe('8');
    expect(await redis.hget(overlapping.keys.orderLinesKey('O3'), 'P3')).toBe('2');
    expect(await redis.hget(overlapping.keys.checkpointKey, `${ORDERS}:0`)).toBe('7');
    expect(await viewsChecksum(redis, prefix, 1)).toBe(await viewsChecksum(redis, prefix, 2));
  });

  it('moves the checkpoint to lastOffset, never back, comparing offsets beyond 2^53 exactly', async () => {
    const prefix = freshPrefix();
    const t = target(prefix);
    const field = `${ORDERS}:4`;
    const log = new PartitionLog(ORDERS, 4, 9_007_199_254_740_990n);
    const placed = (id: string) =>
      log.add({
        type: 'OrderPlaced',
        orderId: id,
        customerId: 'C',
        lines: [line('A', 1)],
        total: eur(1000),
      });
    const [o1, o2] = [placed('O1'), placed('O2')];
    log.gap(3);
    const late = placed('O3'); // offset 9007199254740995
    expect(late.offset).toBe('9007199254740995');

    // The batch's last records were transaction markers: the checkpoint passes them.
    await t.apply(ORDERS, 4, [o1, o2], '9007199254740994');
    expect(await redis.hget(t.keys.checkpointKey, field)).toBe('9007199254740994');
    expect((await t.resumeOffsets(ORDERS, [4])).get(4)).toBe(9_007_199_254_740_995n);

    // An empty batch moves it too.
    await t.apply(ORDERS, 4, [], '9007199254740996');
    expect(await redis.hget(t.keys.checkpointKey, field)).toBe('9007199254740996');

    // Every event of this batch is at or below the checkpoint: skipped; the checkpoint stays.
    await t.apply(ORDERS, 4, [late], '9007199254740995');
    expect(await redis.exists(t.keys.orderKey('O3'))).toBe(0);
    expect(await redis.hget(t.keys.checkpointKey, field)).toBe('9007199254740996');

    // 20 digits beat 19, though '1…' < '9…' as text; a lower lastOffset never moves it back.
    await t.apply(ORDERS, 4, [], '10000000000000000000');
    await t.apply(ORDERS, 4, [], '9999999999999999999');
    await t.apply(ORDERS, 4, [], '0');
    expect(await redis.hget(t.keys.checkpointKey, field)).toBe('10000000000000000000');
    expect((await t.resumeOffsets(ORDERS, [4, 5])).get(4)).toBe(10_000_000_000_000_000_001n);
    expect((await t.resumeOffsets(ORDERS, [4, 5])).get(5)).toBe(0n);
    expect(await redis.zscore(t.keys.bestsellersKey, 'A')).toBe('2');
  });

  it('counts best-sellers and categories over a realistic history, whatever the interleaving', async () => {
    const prefix = freshPrefix();
    const live = target(prefix, 1);
    const replay = target(prefix, 2, { maxEventsPerCall: 3 });
    const { products, orders } = realisticLogs();
    const all = [...products, ...orders];
    // Live: partitions interleaved in batches of 2.
    const longest = Math.max(...all.map((l) => l.events.length));
    for (let i = 0; i < longest; i += 2) {
      for (const log of all) {
        const batch = log.events.slice(i, i + 2);
        if (batch.length > 0) await applyAll(live, batch);
      }
    }
    // Replay: one partition after the other, in reverse partition order.
    for (const log of [...all].reverse()) await applyAll(replay, log.events);

    const k = live.keys;
    expect(await redis.hgetall(k.categoriesKey)).toEqual({ kitchen: '1', garden: '2', toys: '1' });
    expect(await zset(k.bestsellersKey)).toEqual(['p5', '10', 'p1', '7', 'p3', '3', 'p2', '1']);
    expect(await redis.zrange(k.customerOrdersKey('c1'), 0, -1)).toEqual(['O1', 'O3']);
    expect(await redis.zrange(k.customerOrdersKey('c2'), 0, -1)).toEqual(['O2', 'O5']);
    expect(await redis.zrange(k.customerOrdersKey('c3'), 0, -1)).toEqual(['O4', 'O6']);
    expect(await redis.hget(k.orderKey('O5'), 'status')).toBe('returned');
    expect(await redis.hget(k.productKey('p4'), 'discontinued')).toBe('true');
    expect(await viewsChecksum(redis, prefix, 1)).toBe(await viewsChecksum(redis, prefix, 2));
    expect(await dumpViewsGeneration(redis, prefix, 2)).toEqual(
      await dumpViewsGeneration(redis, prefix, 1),
    );
  });

  it('does not count a discontinued product in its categories when its details change', async () => {
    const prefix = freshPrefix();
    const t = target(prefix);
    const log = new PartitionLog(PRODUCTS, 0);
    log.add(created('p1', 'kitchen'));
    log.add({ type: 'ProductDiscontinued', productId: 'p1' });
    log.add({ type: 'ProductDiscontinued', productId: 'p1' }); // twice: counted off once
    log.add({
      type: 'ProductDetailsUpdated',
      productId: 'p1',
      name: 'n',
      description: '',
      category: 'garden',
    });
    log.add(created('p2', 'kitchen'));
    await applyAll(t, log.events);
    expect(await redis.hgetall(t.keys.categoriesKey)).toEqual({ kitchen: '1' });
    expect(await redis.hget(t.keys.productKey('p1'), 'category')).toBe('garden');
  });

  it('records updatedAt in UTC and placed-at in ms, whatever zone the event was stamped in', async () => {
    const t = target(freshPrefix());
    const log = new PartitionLog(ORDERS, 0);
    const placed = log.raw(
      'OrderPlaced',
      { orderId: 'O1', customerId: 'c', lines: [line('A', 1)], total: eur(1000) },
      '2025-03-01T12:00:00.250+02:00',
    );
    const confirmed = log.raw(
      'OrderConfirmed',
      { orderId: 'O1', customerId: 'c' },
      '2025-03-01T05:30:00-05:00',
    );
    await applyAll(t, [placed]);
    expect(await redis.hget(t.keys.orderKey('O1'), 'updatedAt')).toBe('2025-03-01T10:00:00.250Z');
    expect(await zset(t.keys.customerOrdersKey('c'))).toEqual([
      'O1',
      String(Date.parse('2025-03-01T10:00:00.250Z')),
    ]);
    await applyAll(t, [confirmed]);
    expect(await redis.hget(t.keys.orderKey('O1'), 'updatedAt')).toBe('2025-03-01T10:30:00.000Z');
  });

  it('keeps the 50 newest orders of a customer, whatever order they arrive in', async () => {
    const prefix = freshPrefix();
    const live = target(prefix, 1);
    const replay = target(prefix, 2);
    const logs = [new PartitionLog(ORDERS, 0), new PartitionLog(ORDERS, 1)];
    const placedAt = (i: number) => T0 + i * 60_000;
    for (let j = 0; j < 60; j++) {
      const i = (j * 37) % 60; // a fixed shuffle of 0..59
      (logs[i % 2] as PartitionLog).add(
        {
          type: 'OrderPlaced',
          orderId: `O${String(i).padStart(2, '0')}`,
          customerId: 'many',
          lines: [line('A', 1)],
          total: eur(1000),
        },
        placedAt(i),
      );
    }
    for (const log of logs) {
      for (let i = 0; i < log.events.length; i += 7)
        await applyAll(live, log.events.slice(i, i + 7));
    }
    for (const log of [...logs].reverse()) await applyAll(replay, log.events);

    const newest = Array.from({ length: 50 }, (_, n) => 59 - n).flatMap((i) => [
      `O${String(i).padStart(2, '0')}`,
      String(placedAt(i)),
    ]);
    expect(await zset(live.keys.customerOrdersKey('many'))).toEqual(newest);
    expect(await redis.exists(live.keys.orderKey('O00'))).toBe(1); // the order itself stays
    expect(await redis.zscore(live.keys.bestsellersKey, 'A')).toBe('60');
    expect(await viewsChecksum(redis, prefix, 1)).toBe(await viewsChecksum(redis, prefix, 2));
  });

  describe('poison events', () => {
    // The codec checked every field against the event's Avro schema (undecodable records go to
    // the dead-letter topic before a target sees them: projectors.test.ts), so what is
    // left to refuse is a type the views neither handle nor ignore, from a caller outside it.
    const cases: [string, (log: PartitionLog) => ProjectedEvent, RegExp][] = [
      [
        'an unknown product event type',
        (log) => log.raw('ProductTeleported', { productId: 'p1' }),
        /does not know event type ProductTeleported/,
      ],
      [
        'an unknown order event type',
        (log) => log.raw('OrderRefunded', { orderId: 'O1', customerId: 'c1' }),
        /does not know event type OrderRefunded/,
      ],
    ];

    it.each(cases)(
      '%s: ProjectionPoisonError, and nothing of the batch is applied',
      async (_, make, reason) => {
        const prefix = freshPrefix();
        const t = target(prefix);
        const { products, orders } = realisticLogs();
        for (const log of [...products, ...orders]) await applyAll(t, log.events);
        const before = await dumpViewsGeneration(redis, prefix, 1);

        // Valid events around the poison, of the same partition as the realistic history.
        const log = orders[0] as PartitionLog;
        const validBefore = [
          log.add({
            type: 'OrderPlaced',
            orderId: 'N1',
            customerId: 'c9',
            lines: [line('p1', 5)],
            total: eur(5000),
          }),
          log.add({ type: 'OrderCancelled', orderId: 'O3', customerId: 'c1', reason: 'late' }),
        ];
        const poison = make(log);
        const validAfter = log.add({ type: 'OrderConfirmed', orderId: 'N1', customerId: 'c9' });
        const batch = [...validBefore, poison, validAfter];
        const attempt = t.apply(log.topic, log.partition, batch, validAfter.offset);

        await expect(attempt).rejects.toBeInstanceOf(ProjectionPoisonError);
        const err = await attempt.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ViewsPoisonError);
        expect(err).toMatchObject({ offset: poison.offset, eventType: poison.type });
        expect((err as Error).message).toContain(`offset ${poison.offset}`);
        expect((err as Error).message).toContain(poison.type);
        expect((err as Error).message).toMatch(reason);
        expect(await dumpViewsGeneration(redis, prefix, 1)).toEqual(before);

        // The runner's way on: each event alone, the poison set aside, the checkpoint moved.
        for (const e of batch) {
          if (e === poison) {
            await expect(t.apply(e.topic, e.partition, [e], e.offset)).rejects.toThrow(
              ProjectionPoisonError,
            );
            await t.apply(e.topic, e.partition, [], e.offset);
          } else {
            await t.apply(e.topic, e.partition, [e], e.offset);
          }
        }
        expect(await redis.hget(t.keys.orderKey('N1'), 'status')).toBe('confirmed');
        expect(await redis.hget(t.keys.orderKey('O3'), 'status')).toBe('cancelled');
        expect(await redis.zscore(t.keys.bestsellersKey, 'p5')).toBeNull();
        expect(await redis.hget(t.keys.checkpointKey, `${log.topic}:${log.partition}`)).toBe(
          validAfter.offset,
        );
        // Below the checkpoint now, the poison is skipped like any applied event.
        await expect(
          t.apply(log.topic, log.partition, batch, validAfter.offset),
        ).resolves.toBeUndefined();
      },
    );
  });

  it('reports, without failing, events about products or orders the views do not hold', async () => {
    const prefix = freshPrefix();
    const { logger, lines } = capturingLogger('warn');
    const t = new ViewsTarget({ redis, keyPrefix: prefix, generation: 1, logger });
    targets.push(t);
    const log = new PartitionLog(ORDERS, 0);
    const placed = log.add({
      type: 'OrderPlaced',
      orderId: 'O1',
      customerId: 'c',
      lines: [line('A', 2)],
      total: eur(2000),
    });
    const again = log.add({
      type: 'OrderPlaced',
      orderId: 'O1',
      customerId: 'c',
      lines: [line('A', 2)],
      total: eur(2000),
    });
    const unknown = log.add({ type: 'OrderConfirmed', orderId: 'nope', customerId: 'c' });
    const stock = log.raw('ProductRestocked', { productId: 'nope', quantity: 1, available: 3 });
    await applyAll(t, [placed, again, unknown, stock]);

    expect(await redis.zscore(t.keys.bestsellersKey, 'A')).toBe('2');
    expect(await redis.exists(t.keys.orderKey('nope'), t.keys.productKey('nope'))).toBe(0);
    expect(await redis.hget(t.keys.checkpointKey, `${ORDERS}:0`)).toBe(stock.offset);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string).ignored).toEqual([
      `${again.offset} OrderPlaced`,
      `${unknown.offset} OrderConfirmed`,
      `${stock.offset} ProductRestocked`,
    ]);
  });

  it('applies a long batch in consecutive atomic steps with the same result', async () => {
    const prefix = freshPrefix();
    const chunked = target(prefix, 1, { maxEventsPerCall: 4 });
    const whole = target(prefix, 2);
    const { orders } = realisticLogs();
    for (const log of orders) {
      await applyAll(chunked, log.events, String(log.events.length + 10));
      await applyAll(whole, log.events, String(log.events.length + 10));
    }
    expect(await viewsChecksum(redis, prefix, 1)).toBe(await viewsChecksum(redis, prefix, 2));

    // A poison in the third step: the first two steps stay applied, with their checkpoint.
    const log = new PartitionLog(ORDERS, 7);
    for (let i = 0; i < 10; i++)
      log.add({ type: 'OrderConfirmed', orderId: 'O1', customerId: 'c1' });
    log.raw('OrderTeleported', { orderId: 'bad' });
    await expect(applyAll(chunked, log.events)).rejects.toThrow(ProjectionPoisonError);
    expect(await redis.hget(chunked.keys.checkpointKey, `${ORDERS}:7`)).toBe('7');
  });

  it('keeps generations apart; dropGeneration removes only its own keys', async () => {
    const prefix = `${freshPrefix()}gl*b?[x]\\:`; // glob characters must match only themselves
    const g1 = target(prefix, 1);
    const g2 = target(prefix, 2);
    const log1 = new PartitionLog(PRODUCTS, 0);
    log1.add(created('only-in-1', 'kitchen'));
    const log2 = new PartitionLog(PRODUCTS, 0);
    log2.add(created('only-in-2', 'garden'));
    log2.add(created('also-in-2', 'garden'));
    await applyAll(g1, log1.events);
    await applyAll(g2, log2.events);

    expect(await redis.exists(g1.keys.productKey('only-in-1'))).toBe(1);
    expect(await redis.exists(g1.keys.productKey('only-in-2'))).toBe(0);
    expect(await redis.hgetall(g1.keys.categoriesKey)).toEqual({ kitchen: '1' });
    expect(await redis.hgetall(g2.keys.categoriesKey)).toEqual({ garden: '2' });
    expect(await redis.hget(g2.keys.checkpointKey, `${PRODUCTS}:0`)).toBe('1');
    expect(await redis.hget(g1.keys.checkpointKey, `${PRODUCTS}:0`)).toBe('0');

    // Keys a careless pattern would catch.
    const parent = prefix.slice(0, -'gl*b?[x]\\:'.length);
    const decoys = [
      `${prefix}views:g10:product:z`,
      `${prefix}views:g1x`,
      `${prefix}other`,
      `${parent}glZZb!x:views:g1:product:z`, // matched by the prefix read as a glob
    ];
    for (const key of decoys) await redis.set(key, 'decoy');
    const g2Sum = await viewsChecksum(redis, prefix, 2);

    await expect(g2.dropGeneration(1)).rejects.toThrow(/readers use/);
    expect(await redis.exists(g1.keys.categoriesKey)).toBe(1);
    await switchViewsGeneration(redis, prefix, 2);
    expect(await g2.dropGeneration(1)).toBe(3);
    expect(await keysOf(viewsPrefix(prefix, 1))).toEqual([]);
    expect(await viewsChecksum(redis, prefix, 2)).toBe(g2Sum);
    for (const key of decoys) expect(await redis.get(key)).toBe('decoy');
    expect(await currentViewsGeneration(redis, prefix)).toBe(2);

    // A dropped generation starts over from offset 0.
    expect((await g1.resumeOffsets(PRODUCTS, [0])).get(0)).toBe(0n);
    await expect(g1.dropGeneration(2)).rejects.toThrow(/readers use/);
    expect(await g1.dropGeneration(2, { force: true })).toBe(4);
    expect(await keysOf(viewsPrefix(prefix, 2))).toEqual([]);
  });

  it('rejects batches that break the runtime contract with plain errors', async () => {
    const t = target(freshPrefix());
    const log = new PartitionLog(ORDERS, 0);
    const a = log.add({ type: 'OrderConfirmed', orderId: 'O1', customerId: 'c' });
    const b = log.add({ type: 'OrderConfirmed', orderId: 'O1', customerId: 'c' });
    const attempts = [
      t.apply(ORDERS, 0, [b, a], b.offset),
      t.apply(ORDERS, 0, [a, b], a.offset),
      t.apply(ORDERS, 1, [a], a.offset),
      t.apply(ORDERS, 0, [], '01'),
      t.apply(ORDERS, 0, [], '-1'),
    ];
    for (const attempt of attempts) {
      const err = await attempt.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ProjectionPoisonError);
    }
    expect(await redis.exists(t.keys.checkpointKey)).toBe(0);
  });

  it('throws connection errors as they are', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    down.on('error', () => undefined);
    try {
      const t = new ViewsTarget({
        redis: down,
        keyPrefix: freshPrefix(),
        generation: 1,
        logger: silentLogger(),
      });
      const log = new PartitionLog(PRODUCTS, 0);
      log.add(created('p1', 'kitchen'));
      const err = await applyAll(t, log.events).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ProjectionPoisonError);
      await expect(t.resumeOffsets(PRODUCTS, [0])).rejects.not.toBeInstanceOf(
        ProjectionPoisonError,
      );
      await t.close(); // the client is the caller's: left alone
    } finally {
      down.disconnect();
    }
  });

  it('opens and closes its own client when given a URL; refuses a client with a keyPrefix', async () => {
    const prefix = freshPrefix();
    const t = new ViewsTarget({
      url: config.redis.url,
      keyPrefix: prefix,
      generation: 1,
      logger: silentLogger(),
    });
    const log = new PartitionLog(PRODUCTS, 3);
    log.add(created('p1', 'kitchen'));
    await applyAll(t, log.events);
    expect((await t.resumeOffsets(PRODUCTS, [3])).get(3)).toBe(1n);
    await t.close();
    await t.close();
    await expect(t.resumeOffsets(PRODUCTS, [3])).rejects.toThrow();

    const prefixed = new Redis(config.redis.url, { keyPrefix: 'x:', lazyConnect: true });
    try {
      expect(
        () =>
          new ViewsTarget({
            redis: prefixed,
            keyPrefix: prefix,
            generation: 1,
            logger: silentLogger(),
          }),
      ).toThrow(/keyPrefix/);
    } finally {
      prefixed.disconnect();
    }
  });
});

function created(productId: string, category: string): ProductEvent {
  return {
    type: 'ProductCreated',
    productId,
    sku: `SKU-${productId}`,
    name: `Product ${productId}`,
    description: '',
    category,
    price: eur(1000),
    initialStock: 100,
  };
}

/**
 * Two product partitions and two order partitions of a small shop:
 * categories end at kitchen 1 (p1), garden 2 (p2 moved in, p3; p4 discontinued), toys 1 (p5;
 * p6 discontinued); best-sellers p5 10, p1 7 (O2's 1 cancelled), p3 3 (O2's 4 cancelled, O5's 1
 * returned), p2 1 (O5's 2 returned).
 */
function realisticLogs(): { products: PartitionLog[]; orders: PartitionLog[] } {
  const p0 = new PartitionLog(PRODUCTS, 0);
  const p1 = new PartitionLog(PRODUCTS, 1);
  p0.add(created('p1', 'kitchen'));
  p0.add(created('p2', 'kitchen'));
  p0.add(created('p3', 'garden'));
  p1.add(created('p4', 'garden'));
  p1.add(created('p5', 'toys'));
  p1.add(created('p6', 'toys'));
  p0.add({
    type: 'ProductDetailsUpdated',
    productId: 'p2',
    name: 'Pot',
    description: '',
    category: 'garden',
  });
  p1.add({
    type: 'ProductDetailsUpdated',
    productId: 'p5',
    name: 'Kite',
    description: 'red',
    category: 'toys',
  });
  p1.add({ type: 'ProductDiscontinued', productId: 'p4' });
  p1.add({ type: 'ProductDiscontinued', productId: 'p6' });
  p0.add({ type: 'StockReserved', productId: 'p1', orderId: 'O1', quantity: 2, available: 98 });
  p0.add({
    type: 'ProductPriceChanged',
    productId: 'p3',
    price: eur(1500),
    previousPrice: eur(1000),
  });
  p0.add({ type: 'ProductRestocked', productId: 'p3', quantity: 5, available: 105 });

  const o0 = new PartitionLog(ORDERS, 0);
  const o1 = new PartitionLog(ORDERS, 1);
  const place = (log: PartitionLog, orderId: string, customerId: string, lines: OrderLine[]) =>
    log.add({ type: 'OrderPlaced', orderId, customerId, lines, total: eur(1000) });
  place(o0, 'O1', 'c1', [line('p1', 2), line('p2', 1)]);
  place(o0, 'O2', 'c2', [line('p1', 1), line('p3', 4)]);
  place(o1, 'O4', 'c3', [line('p1', 5)]);
  o0.add({ type: 'OrderCancelled', orderId: 'O2', customerId: 'c2', reason: 'no stock' });
  place(o1, 'O5', 'c2', [line('p2', 2), line('p3', 1)]);
  o0.add({ type: 'OrderConfirmed', orderId: 'O1', customerId: 'c1' });
  place(o0, 'O3', 'c1', [line('p5', 10)]);
  for (const step of ['OrderConfirmed', 'OrderShipped', 'OrderDelivered'] as const) {
    if (step === 'OrderShipped') {
      o1.add({ type: step, orderId: 'O5', customerId: 'c2', trackingNumber: null });
    } else {
      o1.add({ type: step, orderId: 'O5', customerId: 'c2' });
    }
  }
  o1.add({ type: 'OrderReturned', orderId: 'O5', customerId: 'c2', reason: 'too small' });
  place(o1, 'O6', 'c3', [line('p3', 3)]);
  // A repeated cancellation (the domain never emits one) must not take the units off twice.
  o0.add({ type: 'OrderCancelled', orderId: 'O2', customerId: 'c2', reason: 'again' });
  return { products: [p0, p1], orders: [o0, o1] };
}
