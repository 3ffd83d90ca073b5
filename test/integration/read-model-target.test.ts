import { randomInt, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { createShardPools } from '../../lib/postgres';
import { ShardingRing } from '../../lib/sharding-ring';
import {
  ReadModelPoisonError,
  ReadModelTarget,
} from '../../projectors/read-model/read-model-target';
import { type ProjectedEvent, ProjectionPoisonError } from '../../projectors/runtime/projection';
import { checksum, tableDigests } from '../../read-models/postgres/checksum';
import {
  readGeneration,
  readModelName,
  schemaFor,
  switchGeneration,
} from '../../read-models/postgres/generations';
import {
  dropGeneration,
  ensureGeneration,
  generationExists,
} from '../../read-models/postgres/schema';
import { runConfig, silentLogger } from '../support/test-env';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const at = (second: number) => new Date(T0 + second * 1000).toISOString();

/**
 * One partition of an event topic, as a projection sees it: offsets in log order (with gaps
 * where `skip` says, like transaction markers) and each aggregate's versions counting up.
 */
class PartitionLog {
  private next = 0;
  private readonly versions = new Map<string, number>();

  constructor(
    readonly topic: string,
    readonly partition = 0,
  ) {}

  event(
    type: string,
    data: Record<string, unknown>,
    overrides: { version?: number; occurredAt?: string } = {},
  ): ProjectedEvent {
    const offset = this.next++;
    const aggregateId = String(type.startsWith('Order') ? data.orderId : data.productId);
    const version = overrides.version ?? (this.versions.get(aggregateId) ?? 0) + 1;
    this.versions.set(aggregateId, Math.max(version, this.versions.get(aggregateId) ?? 0));
    // Built outside the codec: its type and fields are the test's word (unknown types included).
    return {
      topic: this.topic,
      partition: this.partition,
      offset: String(offset),
      type,
      data,
      meta: {
        eventId: randomUUID(),
        aggregateId,
        aggregateVersion: version,
        commandId: randomUUID(),
        correlationId: randomUUID(),
        causationId: randomUUID(),
        occurredAt: overrides.occurredAt ?? at(offset),
        actor: 'test',
      },
    } as ProjectedEvent;
  }

  skip(n: number): void {
    this.next += n;
  }

  /** The offset of the last event or gap so far. */
  get last(): string {
    return String(this.next - 1);
  }
}

const eur = (amount: number) => ({ amount, currency: 'EUR' });

const product = (productId: string, initialStock = 10, price = 1000) => ({
  productId,
  sku: `SKU-${productId}`,
  name: `Product ${productId}`,
  description: '',
  category: 'tools',
  price: eur(price),
  initialStock,
});

const placed = (
  orderId: string,
  customerId: string,
  lines: { productId: string; quantity: number; price: number }[],
) => ({
  orderId,
  customerId,
  lines: lines.map((l) => ({
    productId: l.productId,
    quantity: l.quantity,
    unitPrice: eur(l.price),
  })),
  total: eur(lines.reduce((sum, l) => sum + l.quantity * l.price, 0)),
});

describe('ReadModelTarget (Postgres read model over the run’s shard databases)', () => {
  const config = runConfig();
  const shardUrls = config.postgres.shardUrls;
  const ring = new ShardingRing(shardUrls.length);
  const logger = silentLogger();
  const base = 900_000 + randomInt(0, 90_000) * 10;
  let nextGeneration = base;
  const generations: number[] = [];
  const targets: ReadModelTarget[] = [];
  let pools: Pool[];

  /** A target on a generation of its own (dropped after the tests). */
  async function newTarget(generation = nextGeneration++): Promise<ReadModelTarget> {
    const target = new ReadModelTarget({
      name: readModelName(generation),
      generation,
      shardUrls,
      ring,
      logger,
    });
    targets.push(target);
    if (!generations.includes(generation)) generations.push(generation);
    await target.ensureGeneration();
    return target;
  }

  /** A key of the form `<prefix>-<n>` that the ring puts on `shard`. */
  function keyOnShard(prefix: string, shard: number, skip = 0): string {
    let found = 0;
    for (let i = 0; ; i++) {
      const key = `${prefix}-${i}`;
      if (ring.shardFor(key) === shard && found++ === skip) return key;
    }
  }

  async function rows<R extends Record<string, unknown>>(
    shard: number,
    sql: string,
    values: unknown[] = [],
  ): Promise<R[]> {
    return (await (pools[shard] as Pool).query<R>(sql, values)).rows;
  }

  /** `select <columns> from <schema>.<table>` on every shard: shard index → rows. */
  async function everyShard<R extends Record<string, unknown>>(
    target: ReadModelTarget,
    table: string,
    columns: string,
    orderBy: string,
  ): Promise<R[][]> {
    return Promise.all(
      shardUrls.map((_, shard) =>
        rows<R>(shard, `select ${columns} from ${target.schema}.${table} order by ${orderBy}`),
      ),
    );
  }

  beforeAll(() => {
    expect(shardUrls).toHaveLength(4);
    pools = createShardPools(shardUrls, 2);
  });

  // Each target holds connections to every shard: close them after each test, so the file
  // stays well below the server's max_connections (shared with the rest of the run).
  afterEach(async () => {
    await Promise.allSettled(targets.splice(0).map((t) => t.close()));
  });

  afterAll(async () => {
    for (const generation of generations) await dropGeneration(shardUrls, generation);
    await Promise.all(pools.map((p) => p.end()));
  });

  it('creates the generation’s schema and tables on every shard, idempotently and safely in parallel', async () => {
    const generation = nextGeneration++;
    generations.push(generation);
    await Promise.all([
      ensureGeneration(shardUrls, generation),
      ensureGeneration(shardUrls, generation),
      ensureGeneration(shardUrls, generation),
    ]);
    await ensureGeneration(shardUrls, generation);
    for (let shard = 0; shard < shardUrls.length; shard++) {
      expect(await generationExists(pools[shard] as Pool, generation)).toBe(true);
      const tables = await rows<{ tablename: string }>(
        shard,
        'select tablename from pg_tables where schemaname = $1 order by tablename',
        [schemaFor(generation)],
      );
      expect(tables.map((t) => t.tablename)).toEqual([
        'order_history',
        'order_lines',
        'orders',
        'products',
      ]);
      const indexes = await rows<{ indexname: string }>(
        shard,
        'select indexname from pg_indexes where schemaname = $1 order by indexname',
        [schemaFor(generation)],
      );
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining(['orders_by_customer', 'products_by_category', 'products_by_price']),
      );
    }
    await dropGeneration(shardUrls, generation);
    expect(await generationExists(pools[0] as Pool, generation)).toBe(false);
  });

  it('puts products on the shard of their product id and orders, lines and history on the shard of their customer', async () => {
    const target = await newTarget();
    const products = new PartitionLog('route.product.events', 0);
    const orders = new PartitionLog('route.order.events', 1);
    const productIds = Array.from({ length: 12 }, (_, i) => `route-p${i}`);
    const customers = [0, 1, 2, 3].map((shard) => keyOnShard('route-c', shard));
    await target.apply(
      products.topic,
      products.partition,
      productIds.map((id) => products.event('ProductCreated', product(id))),
      products.last,
    );
    const orderEvents = customers.flatMap((customerId, i) => {
      const orderId = `route-o${i}`;
      const lines = [
        { productId: productIds[i] as string, quantity: 1, price: 500 },
        { productId: productIds[i + 4] as string, quantity: 2, price: 250 },
      ];
      return [
        orders.event('OrderPlaced', placed(orderId, customerId, lines)),
        orders.event('OrderStockReserved', { orderId, customerId, productId: productIds[i] }),
      ];
    });
    await target.apply(orders.topic, orders.partition, orderEvents, orders.last);

    const productRows = await everyShard<{ product_id: string }>(
      target,
      'products',
      'product_id',
      'product_id',
    );
    expect(productRows.flat()).toHaveLength(productIds.length);
    productRows.forEach((shardRows, shard) => {
      for (const r of shardRows) expect(ring.shardFor(r.product_id)).toBe(shard);
    });
    expect(productRows.filter((r) => r.length > 0).length).toBeGreaterThan(1);

    const orderRows = await everyShard<{ order_id: string; customer_id: string }>(
      target,
      'orders',
      'order_id, customer_id',
      'order_id',
    );
    const lineRows = await everyShard<{ order_id: string }>(
      target,
      'order_lines',
      'order_id',
      'order_id, line_no',
    );
    const historyRows = await everyShard<{ order_id: string }>(
      target,
      'order_history',
      'order_id',
      'order_id, aggregate_version',
    );
    customers.forEach((customerId, i) => {
      const shard = ring.shardFor(customerId);
      expect(shard).toBe(i);
      expect(orderRows[shard]).toEqual([{ order_id: `route-o${i}`, customer_id: customerId }]);
      expect(lineRows[shard]).toEqual([{ order_id: `route-o${i}` }, { order_id: `route-o${i}` }]);
      expect(historyRows[shard]).toEqual([
        { order_id: `route-o${i}` },
        { order_id: `route-o${i}` },
      ]);
    });
  });

  it('reflects every product change and every order status transition, with times from the events', async () => {
    const target = await newTarget();
    const p = new PartitionLog('flow.product.events', 2);
    const o = new PartitionLog('flow.order.events', 0);
    const productId = 'flow-p1';
    const customerId = 'flow-c1';
    const shard = () => ring.shardFor(customerId);
    const productShard = ring.shardFor(productId);
    const productRow = async () =>
      (
        await rows<Record<string, unknown>>(
          productShard,
          `select sku, name, description, category, price_amount::int as price, currency, available,
                  reserved, sold, discontinued, version, created_at, updated_at
             from ${target.schema}.products where product_id = $1`,
          [productId],
        )
      )[0];
    const orderRow = async (orderId: string) =>
      (
        await rows<Record<string, unknown>>(
          shard(),
          `select status, total_amount::int as total, currency, payment_id, tracking_number,
                  cancel_reason, return_reason, version, placed_at, updated_at
             from ${target.schema}.orders where order_id = $1`,
          [orderId],
        )
      )[0];
    const applyP = (e: ProjectedEvent) => target.apply(p.topic, p.partition, [e], e.offset);
    const applyO = (e: ProjectedEvent) => target.apply(o.topic, o.partition, [e], e.offset);

    // Products
    await applyP(p.event('ProductCreated', product(productId, 10, 1999)));
    expect(await productRow()).toMatchObject({
      sku: `SKU-${productId}`,
      price: 1999,
      currency: 'EUR',
      available: 10,
      reserved: 0,
      sold: 0,
      discontinued: false,
      version: 1,
      created_at: new Date(at(0)),
      updated_at: new Date(at(0)),
    });
    await applyP(
      p.event('ProductDetailsUpdated', {
        productId,
        name: 'Hammer',
        description: 'Heavy',
        category: 'hardware',
      }),
    );
    expect(await productRow()).toMatchObject({
      name: 'Hammer',
      description: 'Heavy',
      category: 'hardware',
      version: 2,
      updated_at: new Date(at(1)),
    });
    await applyP(
      p.event('ProductPriceChanged', { productId, price: eur(2499), previousPrice: eur(1999) }),
    );
    expect(await productRow()).toMatchObject({ price: 2499, version: 3 });
    await applyP(
      p.event('StockReserved', { productId, orderId: 'flow-o1', quantity: 3, available: 7 }),
    );
    expect(await productRow()).toMatchObject({ available: 7, reserved: 3, sold: 0, version: 4 });
    await applyP(
      p.event('StockReserved', { productId, orderId: 'flow-o2', quantity: 2, available: 5 }),
    );
    await applyP(
      p.event('ReservationReleased', { productId, orderId: 'flow-o2', quantity: 2, available: 7 }),
    );
    expect(await productRow()).toMatchObject({ available: 7, reserved: 3, version: 6 });
    await applyP(p.event('ProductRestocked', { productId, quantity: 5, available: 12 }));
    expect(await productRow()).toMatchObject({ available: 12, reserved: 3, version: 7 });
    await applyP(p.event('ReservationCommitted', { productId, orderId: 'flow-o1', quantity: 3 }));
    expect(await productRow()).toMatchObject({ available: 12, reserved: 0, sold: 3, version: 8 });
    await applyP(p.event('ProductDiscontinued', { productId }));
    expect(await productRow()).toMatchObject({
      discontinued: true,
      version: 9,
      created_at: new Date(at(0)),
      updated_at: new Date(at(8)),
    });
    // Not shown here: the row's version moves on, nothing else changes.
    await applyP(p.event('ProductPurchaseLimitSet', { productId, limit: 2 }));
    expect(await productRow()).toMatchObject({ available: 12, discontinued: true, version: 10 });

    // An order all the way: pending → confirmed → shipped → delivered → returned
    const lines = [
      { productId, quantity: 3, price: 1999 },
      { productId: 'flow-p2', quantity: 1, price: 500 },
    ];
    await applyO(o.event('OrderPlaced', placed('flow-o1', customerId, lines)));
    expect(await orderRow('flow-o1')).toMatchObject({
      status: 'pending',
      total: 3 * 1999 + 500,
      currency: 'EUR',
      payment_id: null,
      version: 1,
      placed_at: new Date(at(0)),
      updated_at: new Date(at(0)),
    });
    expect(
      await rows(
        shard(),
        `select line_no, product_id, quantity, unit_price_amount::int as price, currency, stock_reserved
           from ${target.schema}.order_lines where order_id = $1 order by line_no`,
        ['flow-o1'],
      ),
    ).toEqual([
      {
        line_no: 0,
        product_id: productId,
        quantity: 3,
        price: 1999,
        currency: 'EUR',
        stock_reserved: false,
      },
      {
        line_no: 1,
        product_id: 'flow-p2',
        quantity: 1,
        price: 500,
        currency: 'EUR',
        stock_reserved: false,
      },
    ]);
    await applyO(o.event('OrderStockReserved', { orderId: 'flow-o1', customerId, productId }));
    await applyO(
      o.event('OrderStockReserved', { orderId: 'flow-o1', customerId, productId: 'flow-p2' }),
    );
    expect(
      await rows(
        shard(),
        `select stock_reserved from ${target.schema}.order_lines where order_id = $1 order by line_no`,
        ['flow-o1'],
      ),
    ).toEqual([{ stock_reserved: true }, { stock_reserved: true }]);
    await applyO(
      o.event('OrderPaymentAuthorized', {
        orderId: 'flow-o1',
        customerId,
        paymentId: 'pay-1',
        amount: eur(3 * 1999 + 500),
      }),
    );
    expect(await orderRow('flow-o1')).toMatchObject({ status: 'pending', payment_id: 'pay-1' });
    await applyO(o.event('OrderConfirmed', { orderId: 'flow-o1', customerId }));
    expect(await orderRow('flow-o1')).toMatchObject({ status: 'confirmed', version: 5 });
    await applyO(
      o.event('OrderShipped', { orderId: 'flow-o1', customerId, trackingNumber: 'TRK-1' }),
    );
    expect(await orderRow('flow-o1')).toMatchObject({
      status: 'shipped',
      tracking_number: 'TRK-1',
    });
    await applyO(o.event('OrderDelivered', { orderId: 'flow-o1', customerId }));
    expect(await orderRow('flow-o1')).toMatchObject({ status: 'delivered' });
    await applyO(o.event('OrderReturned', { orderId: 'flow-o1', customerId, reason: 'too heavy' }));
    expect(await orderRow('flow-o1')).toMatchObject({
      status: 'returned',
      return_reason: 'too heavy',
      cancel_reason: null,
      payment_id: 'pay-1',
      version: 8,
      placed_at: new Date(at(0)),
      updated_at: new Date(at(7)),
    });

    // Another: stock rejected, payment authorized then failed, cancelled; shipped without tracking
    await applyO(
      o.event(
        'OrderPlaced',
        placed('flow-o2', customerId, [{ productId, quantity: 1, price: 10 }]),
      ),
    );
    await applyO(
      o.event('OrderStockRejected', {
        orderId: 'flow-o2',
        customerId,
        productId,
        reason: 'none left',
      }),
    );
    expect(await orderRow('flow-o2')).toMatchObject({ status: 'pending', version: 2 });
    await applyO(
      o.event('OrderPaymentAuthorized', {
        orderId: 'flow-o2',
        customerId,
        paymentId: 'pay-2',
        amount: eur(10),
      }),
    );
    await applyO(
      o.event('OrderPaymentFailed', { orderId: 'flow-o2', customerId, reason: 'card declined' }),
    );
    expect(await orderRow('flow-o2')).toMatchObject({ status: 'pending', payment_id: null });
    await applyO(
      o.event('OrderCancelled', { orderId: 'flow-o2', customerId, reason: 'out of stock' }),
    );
    expect(await orderRow('flow-o2')).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'out of stock',
      version: 5,
    });
    // An order of one unit, placed and its stock reserved: what each of the flows below starts from.
    const placeAndReserve = async (orderId: string) => {
      await applyO(
        o.event(
          'OrderPlaced',
          placed(orderId, customerId, [{ productId, quantity: 1, price: 10 }]),
        ),
      );
      await applyO(o.event('OrderStockReserved', { orderId, customerId, productId }));
    };
    await placeAndReserve('flow-o3');
    await applyO(
      o.event('OrderPaymentAuthorized', {
        orderId: 'flow-o3',
        customerId,
        paymentId: 'p3',
        amount: eur(10),
      }),
    );
    await applyO(o.event('OrderConfirmed', { orderId: 'flow-o3', customerId }));
    await applyO(o.event('OrderShipped', { orderId: 'flow-o3', customerId, trackingNumber: null }));
    expect(await orderRow('flow-o3')).toMatchObject({ status: 'shipped', tracking_number: null });
    // Confirmed by its payment (the saga's usual path: OrderConfirmed v2 carries the payment)
    await placeAndReserve('flow-o4');
    await applyO(
      o.event('OrderConfirmed', {
        orderId: 'flow-o4',
        customerId,
        paymentId: 'pay-4',
        amount: eur(10),
      }),
    );
    expect(await orderRow('flow-o4')).toMatchObject({ status: 'confirmed', payment_id: 'pay-4' });

    // The audit trail: every order event, in log order, with its place in the log
    const history = await rows<Record<string, unknown>>(
      shard(),
      `select aggregate_version, event_type, data, occurred_at, topic, partition, "offset"::int as offset
         from ${target.schema}.order_history where order_id = $1 order by aggregate_version`,
      ['flow-o1'],
    );
    expect(history.map((h) => h.event_type)).toEqual([
      'OrderPlaced',
      'OrderStockReserved',
      'OrderStockReserved',
      'OrderPaymentAuthorized',
      'OrderConfirmed',
      'OrderShipped',
      'OrderDelivered',
      'OrderReturned',
    ]);
    expect(history[0]).toMatchObject({
      aggregate_version: 1,
      data: placed('flow-o1', customerId, lines),
      occurred_at: new Date(at(0)),
      topic: o.topic,
      partition: 0,
      offset: 0,
    });
    expect(history[7]).toMatchObject({
      data: { orderId: 'flow-o1', customerId, reason: 'too heavy' },
      offset: 7,
    });
    expect(
      await rows(shard(), `select count(*)::int as n from ${target.schema}.order_history`),
    ).toEqual([{ n: 21 }]);
  });

  /** A mixed batch: products on one partition of the product topic, orders on the order topic. */
  function mixedLogs(tag: string) {
    const p = new PartitionLog(`${tag}.product.events`, 0);
    const o = new PartitionLog(`${tag}.order.events`, 0);
    const productEvents = [0, 1, 2, 3].flatMap((i) => [
      p.event('ProductCreated', product(`${tag}-p${i}`, 20)),
      p.event('StockReserved', {
        productId: `${tag}-p${i}`,
        orderId: `${tag}-o${i}`,
        quantity: 2,
        available: 18,
      }),
    ]);
    p.skip(1); // a transaction marker
    const orderEvents = [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => {
      const customerId = `${tag}-c${i % 5}`;
      const orderId = `${tag}-o${i}`;
      return [
        o.event(
          'OrderPlaced',
          placed(orderId, customerId, [{ productId: `${tag}-p${i % 4}`, quantity: 2, price: 300 }]),
        ),
        o.event('OrderStockReserved', { orderId, customerId, productId: `${tag}-p${i % 4}` }),
        o.event('OrderPaymentAuthorized', {
          orderId,
          customerId,
          paymentId: `pay-${i}`,
          amount: eur(600),
        }),
        o.event('OrderConfirmed', { orderId, customerId }),
      ];
    });
    return { p, o, productEvents, orderEvents };
  }

  it('applies a batch once in effect: the same batch again changes nothing, not even the checkpoints', async () => {
    const target = await newTarget();
    const { p, o, productEvents, orderEvents } = mixedLogs('once');
    await target.apply(p.topic, 0, productEvents, p.last);
    await target.apply(o.topic, 0, orderEvents, o.last);
    const digest = await checksum(shardUrls, target.generation);
    const checkpointRows = () =>
      Promise.all(
        shardUrls.map((_, shard) =>
          rows(
            shard,
            `select topic, partition, "offset"::int as offset, updated_at from public.projection_checkpoints
              where projection = $1 order by topic, partition`,
            [target.name],
          ),
        ),
      );
    const before = await checkpointRows();
    expect(before.map((r) => r.map((c) => c.offset))).toEqual(
      shardUrls.map(() => [Number(o.last), Number(p.last)]),
    );

    await target.apply(p.topic, 0, productEvents, p.last);
    await target.apply(o.topic, 0, orderEvents, o.last);
    expect(await checksum(shardUrls, target.generation)).toBe(digest);
    expect(await checkpointRows()).toEqual(before);

    const digests = await tableDigests(shardUrls, target.generation);
    expect(Object.fromEntries(Object.entries(digests).map(([t, d]) => [t, d.rows]))).toEqual({
      products: 4,
      orders: 8,
      order_lines: 8,
      order_history: 32,
    });
  });

  it('applies only the events above the checkpoint of a batch that overlaps it', async () => {
    const live = await newTarget();
    const reference = await newTarget();
    const { p, o, productEvents, orderEvents } = mixedLogs('overlap');
    await reference.apply(p.topic, 0, productEvents, p.last);
    await reference.apply(o.topic, 0, orderEvents, o.last);

    // 0..19 first, then 10..31: events 10..19 are at or below the checkpoint. Re-applying
    // any of them would fail (duplicate key, or a version already applied), so this passes
    // only if they are skipped.
    await live.apply(o.topic, 0, orderEvents.slice(0, 20), '19');
    expect(await live.checkpoints(o.topic, 0)).toEqual([19n, 19n, 19n, 19n]);
    await live.apply(o.topic, 0, orderEvents.slice(10), o.last);
    await live.apply(p.topic, 0, productEvents.slice(0, 3), '2');
    await live.apply(p.topic, 0, productEvents, p.last);
    expect(await live.checkpoints(o.topic, 0)).toEqual(shardUrls.map(() => BigInt(o.last)));
    expect(await checksum(shardUrls, live.generation)).toBe(
      await checksum(shardUrls, reference.generation),
    );
  });

  it('builds the same rows whether the log comes in one batch or one event at a time (live vs replay)', async () => {
    const live = await newTarget();
    const replay = await newTarget();
    const { p, o, productEvents, orderEvents } = mixedLogs('replay');
    for (const e of productEvents) await live.apply(p.topic, 0, [e], e.offset);
    await live.apply(p.topic, 0, [], p.last);
    for (const e of orderEvents) await live.apply(o.topic, 0, [e], e.offset);
    await replay.apply(o.topic, 0, orderEvents, o.last);
    await replay.apply(p.topic, 0, productEvents, p.last);
    const a = await tableDigests(shardUrls, live.generation);
    const b = await tableDigests(shardUrls, replay.generation);
    expect(a).toEqual(b);
    expect(await checksum(shardUrls, live.generation)).toBe(
      await checksum(shardUrls, replay.generation),
    );
    // …and a different model has a different checksum
    const shipped = o.event('OrderShipped', {
      orderId: 'replay-o0',
      customerId: 'replay-c0',
      trackingNumber: 'X',
    });
    await live.apply(o.topic, 0, [shipped], shipped.offset);
    expect(await checksum(shardUrls, live.generation)).not.toBe(
      await checksum(shardUrls, replay.generation),
    );
  });

  it('moves the checkpoint on every shard, even those with no rows in the batch, and never backwards', async () => {
    const target = await newTarget();
    const o = new PartitionLog('moves.order.events', 3);
    const customerId = keyOnShard('moves-c', 2);
    const events = [
      o.event(
        'OrderPlaced',
        placed('moves-o1', customerId, [{ productId: 'x', quantity: 1, price: 1 }]),
      ),
      o.event('OrderConfirmed', { orderId: 'moves-o1', customerId }),
    ];
    o.skip(3);
    await target.apply(o.topic, 3, events, o.last);
    expect(await target.checkpoints(o.topic, 3)).toEqual([4n, 4n, 4n, 4n]);
    // An empty batch (only markers) moves them too
    await target.apply(o.topic, 3, [], '9');
    expect(await target.checkpoints(o.topic, 3)).toEqual([9n, 9n, 9n, 9n]);
    // A lower lastOffset does not move them back
    await target.apply(o.topic, 3, [], '5');
    expect(await target.checkpoints(o.topic, 3)).toEqual([9n, 9n, 9n, 9n]);
    // Other partitions and projections are untouched
    expect(await target.checkpoints(o.topic, 0)).toEqual([null, null, null, null]);
    const rowsOnShards = await everyShard(target, 'orders', 'order_id', 'order_id');
    expect(rowsOnShards.map((r) => r.length)).toEqual([0, 0, 1, 0]);
  });

  it('resumes each partition from the lowest checkpoint + 1 over the shards (0 if any shard has none)', async () => {
    const target = await newTarget();
    const topic = 'resume.product.events';
    const log = new PartitionLog(topic, 0);
    await target.apply(topic, 0, [log.event('ProductCreated', product('resume-p1'))], '41');
    await target.apply(topic, 1, [], '99');
    expect(await target.resumeOffsets(topic, [0, 1, 2])).toEqual(
      new Map([
        [0, 42n],
        [1, 100n],
        [2, 0n],
      ]),
    );
    // Shard 2 behind on partition 0 (say it committed an earlier batch only)
    await rows(
      2,
      `update public.projection_checkpoints set "offset" = 17
        where projection = $1 and topic = $2 and partition = 0`,
      [target.name, topic],
    );
    // Shard 3 has nothing for partition 1 (a new shard)
    await rows(
      3,
      'delete from public.projection_checkpoints where projection = $1 and topic = $2 and partition = 1',
      [target.name, topic],
    );
    expect(await target.resumeOffsets(topic, [0, 1, 2])).toEqual(
      new Map([
        [0, 18n],
        [1, 0n],
        [2, 0n],
      ]),
    );
    expect(await target.resumeOffsets('resume.other.events', [0])).toEqual(new Map([[0, 0n]]));
    // The shard behind catches up on the next apply of the same events (the rest skip them)
    await target.apply(topic, 0, [], '41');
    expect(await target.checkpoints(topic, 0)).toEqual([41n, 41n, 41n, 41n]);
  });

  it('lets one of two concurrent appliers of the same batch (zombie and successor) take effect', async () => {
    const target = await newTarget();
    const twin = new ReadModelTarget({
      generation: target.generation,
      shardUrls,
      ring,
      logger,
    });
    targets.push(twin);
    const reference = await newTarget();
    const { p, o, productEvents, orderEvents } = mixedLogs('race');
    await reference.apply(p.topic, 0, productEvents, p.last);
    await reference.apply(o.topic, 0, orderEvents, o.last);
    await Promise.all([
      target.apply(p.topic, 0, productEvents, p.last),
      twin.apply(p.topic, 0, productEvents, p.last),
      target.apply(o.topic, 0, orderEvents, o.last),
      twin.apply(o.topic, 0, orderEvents, o.last),
    ]);
    expect(await checksum(shardUrls, target.generation)).toBe(
      await checksum(shardUrls, reference.generation),
    );
  });

  it('applies many partitions at once over pools smaller than the number of appliers', async () => {
    const generation = nextGeneration++;
    generations.push(generation);
    const target = new ReadModelTarget({ generation, shardUrls, ring, logger, poolSize: 1 });
    targets.push(target);
    const logs = [0, 1, 2, 3, 4, 5].map(
      (partition) => new PartitionLog('many.product.events', partition),
    );
    await Promise.all(
      logs.map((log) =>
        target.apply(
          log.topic,
          log.partition,
          [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
            log.event('ProductCreated', product(`many-${log.partition}-${i}`)),
          ),
          log.last,
        ),
      ),
    );
    expect((await tableDigests(shardUrls, generation)).products.rows).toBe(48);
    expect(await target.resumeOffsets('many.product.events', [0, 1, 2, 3, 4, 5])).toEqual(
      new Map([0, 1, 2, 3, 4, 5].map((p) => [p, 8n])),
    );
  });

  describe('poison events', () => {
    async function setUp(tag: string) {
      const target = await newTarget();
      const o = new PartitionLog(`${tag}.order.events`, 0);
      const customers = [0, 1, 2, 3].map((shard) => keyOnShard(`${tag}-c`, shard));
      const good = customers.map((customerId, i) =>
        o.event(
          'OrderPlaced',
          placed(`${tag}-o${i}`, customerId, [{ productId: 'p', quantity: 1, price: 5 }]),
        ),
      );
      await target.apply(o.topic, 0, good, o.last);
      return { target, o, customers, good };
    }

    /** The model and every checkpoint as they are. */
    async function snapshot(target: ReadModelTarget, topic: string) {
      return {
        digest: await checksum(shardUrls, target.generation),
        checkpoints: await target.checkpoints(topic, 0),
      };
    }

    it('surfaces an event for an order that does not exist as ProjectionPoisonError naming it, applying nothing of the batch', async () => {
      const { target, o, customers } = await setUp('poison');
      const before = await snapshot(target, o.topic);
      const customerId = customers[1] as string;
      const batch = [
        o.event('OrderConfirmed', { orderId: 'poison-o0', customerId: customers[0] }),
        o.event('OrderConfirmed', { orderId: 'poison-o1', customerId }),
        o.event('OrderStockReserved', { orderId: 'poison-nope', customerId, productId: 'p' }),
        o.event('OrderConfirmed', { orderId: 'poison-o2', customerId: customers[2] }),
      ];
      const error = await target.apply(o.topic, 0, batch, o.last).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(ProjectionPoisonError);
      expect(error).toBeInstanceOf(ReadModelPoisonError);
      expect(error).toMatchObject({
        name: 'ProjectionPoisonError',
        topic: o.topic,
        partition: 0,
        offset: '6',
        eventType: 'OrderStockReserved',
      });
      expect((error as Error).message).toContain(`OrderStockReserved at ${o.topic}/0@6`);
      expect(await snapshot(target, o.topic)).toEqual(before);

      // As the runtime does: set it aside, apply the rest
      await target.apply(
        o.topic,
        0,
        batch.filter((e) => e.offset !== '6'),
        o.last,
      );
      const statuses = await everyShard<{ order_id: string; status: string }>(
        target,
        'orders',
        'order_id, status',
        'order_id',
      );
      expect(statuses.flat().sort((a, b) => a.order_id.localeCompare(b.order_id))).toEqual([
        { order_id: 'poison-o0', status: 'confirmed' },
        { order_id: 'poison-o1', status: 'confirmed' },
        { order_id: 'poison-o2', status: 'confirmed' },
        { order_id: 'poison-o3', status: 'pending' },
      ]);
      expect(await target.checkpoints(o.topic, 0)).toEqual([7n, 7n, 7n, 7n]);
    });

    it('surfaces an event type the model does not know, and a line the order does not have', async () => {
      const { target, o, customers } = await setUp('unknown');
      const before = await snapshot(target, o.topic);
      const customerId = customers[3];
      const unknown = o.event('OrderRefunded', { orderId: 'unknown-o3', customerId });
      await expect(target.apply(o.topic, 0, [unknown], unknown.offset)).rejects.toMatchObject({
        name: 'ProjectionPoisonError',
        offset: '4',
        eventType: 'OrderRefunded',
        message: expect.stringContaining('does not know event type OrderRefunded'),
      });
      const noLine = o.event('OrderStockReserved', {
        orderId: 'unknown-o3',
        customerId,
        productId: 'q',
      });
      await expect(target.apply(o.topic, 0, [noLine], noLine.offset)).rejects.toMatchObject({
        offset: '5',
        eventType: 'OrderStockReserved',
      });
      expect(await snapshot(target, o.topic)).toEqual(before);
    });

    it('surfaces integrity (23) and data (22) errors of Postgres as poison, with the error as cause', async () => {
      const { target, o, customers } = await setUp('pgerr');
      const before = await snapshot(target, o.topic);
      // 23505: an order placed twice under another version
      const twice = o.event(
        'OrderPlaced',
        placed('pgerr-o1', customers[1] as string, [{ productId: 'p', quantity: 1, price: 5 }]),
        { version: 7 },
      );
      const dup = await target.apply(o.topic, 0, [twice], twice.offset).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(ReadModelPoisonError);
      expect(((dup as Error).cause as { code?: string }).code).toBe('23505');
      // 22008/22007: a time JavaScript reads but past what Postgres timestamptz holds (text
      // holding NUL is no such error: it is stored encoded, lib/postgres-text.ts)
      const p = new PartitionLog('pgerr.product.events', 0);
      const far = p.event('ProductCreated', product('pgerr-p1'), {
        occurredAt: '+275000-01-01T00:00:00.000Z',
      });
      const bad = await target.apply(p.topic, 0, [far], far.offset).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(ReadModelPoisonError);
      expect(((bad as Error).cause as { code?: string }).code).toMatch(/^22/);
      // a product event for a product that does not exist
      const ghost = p.event('ProductRestocked', {
        productId: 'pgerr-ghost',
        quantity: 1,
        available: 1,
      });
      await expect(target.apply(p.topic, 0, [ghost], ghost.offset)).rejects.toBeInstanceOf(
        ReadModelPoisonError,
      );
      expect(await snapshot(target, o.topic)).toEqual(before);
      expect(await target.checkpoints(p.topic, 0)).toEqual([null, null, null, null]);
    });

    it('throws transient errors as they are, leaving every shard as it was', async () => {
      const { target, o } = await setUp('transient');
      const before = await snapshot(target, o.topic);
      const broken = new ReadModelTarget({
        generation: target.generation,
        shardUrls: [...shardUrls.slice(0, 3), 'postgres://postgres@127.0.0.1:1/nowhere'],
        ring,
        logger,
      });
      targets.push(broken);
      await expect(broken.resumeOffsets(o.topic, [0])).rejects.not.toBeInstanceOf(
        ProjectionPoisonError,
      );
      const error = await broken
        .apply(
          o.topic,
          0,
          [o.event('OrderConfirmed', { orderId: 'transient-o0', customerId: 'x' })],
          o.last,
        )
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ECONNREFUSED' });
      expect(error).not.toBeInstanceOf(ProjectionPoisonError);
      expect(await snapshot(target, o.topic)).toEqual(before);
    });
  });

  describe('generations', () => {
    it('keeps two generations independent: own schema, own rows, own checkpoints', async () => {
      const blue = await newTarget();
      const green = await newTarget();
      expect(blue.schema).toBe(schemaFor(blue.generation));
      expect(green.name).toBe(`read-model@g${green.generation}`);
      const p = new PartitionLog('gen.product.events', 0);
      const first = p.event('ProductCreated', product('gen-p1'));
      const second = p.event('ProductCreated', product('gen-p2'));
      await blue.apply(p.topic, 0, [first], first.offset);
      await green.apply(p.topic, 0, [first, second], second.offset);
      const count = async (t: ReadModelTarget) =>
        (await tableDigests(shardUrls, t.generation)).products.rows;
      expect(await count(blue)).toBe(1);
      expect(await count(green)).toBe(2);
      expect(await blue.checkpoints(p.topic, 0)).toEqual([0n, 0n, 0n, 0n]);
      expect(await green.checkpoints(p.topic, 0)).toEqual([1n, 1n, 1n, 1n]);

      await dropGeneration(shardUrls, blue.generation);
      expect(await generationExists(pools[0] as Pool, blue.generation)).toBe(false);
      expect(await blue.resumeOffsets(p.topic, [0])).toEqual(new Map([[0, 0n]]));
      expect(await count(green)).toBe(2);
      expect(await green.resumeOffsets(p.topic, [0])).toEqual(new Map([[0, 2n]]));
    });

    it('records which generation readers use on shard 0 (absent → 1) and switches it', async () => {
      const shard0 = pools[0] as Pool;
      const projection = `read-model-test-${randomUUID()}`;
      expect(await readGeneration(shard0, projection)).toBe(1);
      expect(await switchGeneration(shard0, base + 5, projection)).toBe(1);
      expect(await readGeneration(shard0, projection)).toBe(base + 5);
      const [{ switched_at: first }] = (await rows<{ switched_at: Date }>(
        0,
        'select switched_at from public.projection_generations where projection = $1',
        [projection],
      )) as [{ switched_at: Date }];
      expect(await switchGeneration(shard0, base + 6, projection)).toBe(base + 5);
      expect(await readGeneration(shard0, projection)).toBe(base + 6);
      const [{ switched_at: second }] = (await rows<{ switched_at: Date }>(
        0,
        'select switched_at from public.projection_generations where projection = $1',
        [projection],
      )) as [{ switched_at: Date }];
      expect(second.getTime()).toBeGreaterThanOrEqual(first.getTime());
      await expect(switchGeneration(shard0, 0, projection)).rejects.toThrow(RangeError);
      await rows(0, 'delete from public.projection_generations where projection = $1', [
        projection,
      ]);
    });
  });
});
