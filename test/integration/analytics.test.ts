import { randomUUID } from 'node:crypto';
import type { OrderEvent, ProductEvent } from '../../domain';
import type { Config } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createKafkaClient, type OutgoingRecord, partitionOf } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { startProjectors } from '../../projectors/service';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { encodeEvent } from '../../schemas/codec';
import { call, envOf, isolatedConfig } from '../support/command-api';
import { projectionState } from '../support/projection-progress';
import { eventually, runCli, silentLogger } from '../support/test-env';

/**
 * The analytics endpoints against a fold over the events: a known stream of product and order
 * events (confirmed, cancelled before and after confirmation, returned) goes into the topics,
 * the analytics projection applies it, and every endpoint answers what the fold below computes.
 */

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

interface Timed {
  event: ProductEvent | OrderEvent;
  id: string;
  occurredAt: string;
}

function eventStream(): Timed[] {
  const stream: Timed[] = [];
  const categories = ['electronics', 'books', 'home'];
  const prices = [1999, 4500, 1250, 899, 30000, 2400];
  for (const [i, price] of prices.entries()) {
    const productId = `an-p${i}`;
    stream.push({
      id: productId,
      occurredAt: at(i),
      event: {
        type: 'ProductCreated',
        productId,
        sku: `AN-${i}`,
        name: `Product ${i}`,
        description: '',
        category: categories[i % 3] as string,
        price: { amount: price, currency: 'EUR' },
        initialStock: 1000,
      },
    });
  }
  // A product that changes category: its revenue shows under the category it has now.
  stream.push({
    id: 'an-p5',
    occurredAt: at(30),
    event: {
      type: 'ProductDetailsUpdated',
      productId: 'an-p5',
      name: 'Product 5 renamed',
      description: 'moved',
      category: 'garden',
    },
  });
  for (let i = 0; i < 24; i++) {
    const orderId = `an-o${i}`;
    const customerId = `an-c${i % 5}`;
    const picks = [i % 6, (i * 5 + 1) % 6].filter((p, k, all) => all.indexOf(p) === k);
    const lines = picks.map((p, k) => ({
      productId: `an-p${p}`,
      quantity: 1 + ((i + k) % 3),
      unitPrice: { amount: prices[p] as number, currency: 'EUR' },
    }));
    const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPrice.amount, 0);
    const placedAt = 60 + i * 23; // spreads the orders over about ten minutes
    stream.push({
      id: orderId,
      occurredAt: at(placedAt),
      event: {
        type: 'OrderPlaced',
        orderId,
        customerId,
        lines,
        total: { amount: total, currency: 'EUR' },
      },
    });
    if (i % 4 === 3) {
      stream.push({
        id: orderId,
        occurredAt: at(placedAt + 2),
        event: { type: 'OrderCancelled', orderId, customerId, reason: 'stock' },
      });
      continue;
    }
    stream.push({
      id: orderId,
      occurredAt: at(placedAt + 40),
      event: { type: 'OrderConfirmed', orderId, customerId, paymentId: `pay-${i}`, amount: null },
    });
    if (i % 7 === 0) {
      stream.push({
        id: orderId,
        occurredAt: at(placedAt + 300),
        event: { type: 'OrderCancelled', orderId, customerId, reason: 'changed mind' },
      });
    } else if (i % 5 === 0) {
      stream.push({
        id: orderId,
        occurredAt: at(placedAt + 900),
        event: { type: 'OrderReturned', orderId, customerId, reason: 'broken' },
      });
    }
  }
  return stream;
}

/** What the analytics model should hold: the fold the endpoints are checked against. */
function fold(stream: Timed[]) {
  const category = new Map<string, { name: string; category: string }>();
  const placed = new Map<string, { productId: string; quantity: number; amount: number }[]>();
  const counted = new Map<string, { minute: string; reversed: boolean }>();
  const minutes = new Map<string, { orders: number; units: number; revenue: number }>();
  const productMinutes = new Map<string, { units: number; revenue: number }>();
  const minuteOf = (iso: string) => `${iso.slice(0, 16)}:00.000Z`;
  const add = (orderId: string, minute: string, sign: number) => {
    const lines = placed.get(orderId) ?? [];
    const m = minutes.get(minute) ?? { orders: 0, units: 0, revenue: 0 };
    m.orders += sign;
    for (const l of lines) {
      m.units += sign * l.quantity;
      m.revenue += sign * l.amount;
      const key = `${minute}|${l.productId}`;
      const p = productMinutes.get(key) ?? { units: 0, revenue: 0 };
      p.units += sign * l.quantity;
      p.revenue += sign * l.amount;
      productMinutes.set(key, p);
    }
    minutes.set(minute, m);
  };
  for (const { event: e, occurredAt } of stream) {
    if (e.type === 'ProductCreated' || e.type === 'ProductDetailsUpdated') {
      category.set(e.productId, { name: e.name, category: e.category });
    } else if (e.type === 'OrderPlaced') {
      placed.set(
        e.orderId,
        e.lines.map((l) => ({
          productId: l.productId,
          quantity: l.quantity,
          amount: l.quantity * l.unitPrice.amount,
        })),
      );
    } else if (e.type === 'OrderConfirmed' && !counted.has(e.orderId)) {
      counted.set(e.orderId, { minute: minuteOf(occurredAt), reversed: false });
      add(e.orderId, minuteOf(occurredAt), 1);
    } else if (e.type === 'OrderCancelled' || e.type === 'OrderReturned') {
      const c = counted.get(e.orderId);
      if (c && !c.reversed) {
        c.reversed = true;
        add(e.orderId, c.minute, -1);
      }
    }
  }
  const salesPerMinute = [...minutes.entries()]
    .filter(([, m]) => m.orders !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([minute, m]) => ({ minute, currency: 'EUR', ...m }));
  const byCategory = new Map<string, { units: number; revenue: number }>();
  const topIn = (from: string, until: string) => {
    const per = new Map<string, { units: number; revenue: number }>();
    for (const [key, v] of productMinutes) {
      const [minute = '', productId = ''] = key.split('|');
      if (minute < from || minute >= until) continue;
      const p = per.get(productId) ?? { units: 0, revenue: 0 };
      p.units += v.units;
      p.revenue += v.revenue;
      per.set(productId, p);
    }
    return [...per.entries()]
      .filter(([, p]) => p.units > 0)
      .sort(([a, x], [b, y]) => y.units - x.units || y.revenue - x.revenue || (a < b ? -1 : 1))
      .map(([productId, p]) => ({
        productId,
        name: category.get(productId)?.name ?? null,
        category: category.get(productId)?.category ?? null,
        currency: 'EUR',
        ...p,
      }));
  };
  for (const [key, v] of productMinutes) {
    const productId = key.split('|')[1] as string;
    const name = category.get(productId)?.category ?? '(unknown)';
    const c = byCategory.get(name) ?? { units: 0, revenue: 0 };
    c.units += v.units;
    c.revenue += v.revenue;
    byCategory.set(name, c);
  }
  const revenuePerCategory = [...byCategory.entries()]
    .filter(([, c]) => c.units !== 0 || c.revenue !== 0)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, c]) => ({ day: '2026-03-01', category: name, currency: 'EUR', ...c }));
  return { salesPerMinute, revenuePerCategory, topIn };
}

describe('analytics read model', () => {
  let config: Config;
  let stopProjectors: (() => Promise<void>) | undefined;
  let queryApi: QueryApi | undefined;
  let http: RunningServer | undefined;
  let admin: string;
  const stream = eventStream();

  beforeAll(async () => {
    config = await isolatedConfig('analytics', {}, { stores: true });
    const names = topicNames(config.topics);
    const records: OutgoingRecord[] = [];
    const versions = new Map<string, number>();
    for (const { event, id, occurredAt } of stream) {
      const version = (versions.get(id) ?? 0) + 1;
      versions.set(id, version);
      const commandId = randomUUID();
      const { value, headers } = encodeEvent(event, {
        aggregateId: id,
        aggregateVersion: version,
        commandId,
        correlationId: commandId,
        causationId: commandId,
        occurredAt,
        actor: 'test:analytics',
      });
      records.push({
        topic: event.type.startsWith('Order') ? names.orderEvents : names.productEvents,
        key: id,
        value,
        headers,
        partition: partitionOf(id, config.topics.partitions),
      });
    }
    const producer = createKafkaClient(config).producer();
    await producer.send(records);
    await producer.close();

    const projectors = await startProjectors(
      { ...config, readSide: { ...config.readSide, projections: ['analytics'] } },
      silentLogger(),
    );
    stopProjectors = projectors.stop;
    const state = await eventually(
      () => projectionState(config, 'analytics', 1),
      (s) => s.lag === 0n && s.applied > 0n,
      60_000,
    );
    expect(state.lag).toBe(0n);
    queryApi = createQueryApi(config, silentLogger());
    http = await listen(queryApi.app, '127.0.0.1', 0);
    admin = await issueToken(config.jwt, 'alice', 'admin');
  });
  afterAll(async () => {
    await http?.close();
    await queryApi?.close();
    await stopProjectors?.();
  });

  const get = (path: string, token = admin) => call(http?.url ?? '', 'GET', path, { token });
  const expected = fold(stream);

  it('sales per minute: confirmed orders in the minute of their confirmation, less those taken back', async () => {
    const res = await get(
      '/analytics/sales-per-minute?from=2026-03-01T09:00:00Z&to=2026-03-01T11:00:00Z',
    );
    expect(res.status).toBe(200);
    expect(expected.salesPerMinute.length).toBeGreaterThan(5);
    expect(res.body).toEqual({ items: expected.salesPerMinute });
  });

  it('revenue per category and day, by the category each product has now', async () => {
    const res = await get('/analytics/revenue-per-category?from=2026-03-01&to=2026-03-01');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: expected.revenuePerCategory });
    expect(expected.revenuePerCategory.map((c) => c.category)).toContain('garden');
  });

  it('top products over a sliding window', async () => {
    for (const [window, until] of [
      [120, '2026-03-01T11:00:00.000Z'],
      [5, '2026-03-01T10:08:00.000Z'],
    ] as const) {
      const res = await get(`/analytics/top-products?window=${window}&until=${until}&limit=100`);
      expect(res.status).toBe(200);
      const from = new Date(Date.parse(until) - window * 60_000).toISOString();
      expect(res.body).toEqual({ window, until, items: expected.topIn(from, until) });
    }
    const narrow = expected.topIn('2026-03-01T10:03:00.000Z', '2026-03-01T10:08:00.000Z');
    const wide = expected.topIn('2026-03-01T09:00:00.000Z', '2026-03-01T11:00:00.000Z');
    expect(narrow).not.toEqual(wide);
  });

  it('shows in orderstream status, caught up', async () => {
    const status = await runCli(['status'], envOf(config));
    expect(status.stdout).toMatch(
      /^analytics \(generation 1, group .*\.projection\.analytics\.g1\): lag 0$/m,
    );
  });

  it('is for staff, and names a bad parameter', async () => {
    const customer = await issueToken(config.jwt, 'an-c1', 'customer');
    expect((await get('/analytics/top-products', customer)).status).toBe(403);
    const bad = await get('/analytics/top-products?window=0');
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'window' })]);
    const backwards = await get('/analytics/revenue-per-category?from=2026-03-02&to=2026-03-01');
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors).toEqual([expect.objectContaining({ field: 'from' })]);
  });
});
