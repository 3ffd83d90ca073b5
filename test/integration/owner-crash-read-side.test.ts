import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { Config } from '../../lib/config';
import { topicNames } from '../../lib/topics';
import { schemaFor } from '../../read-models/postgres/generations';
import { viewsKeys } from '../../read-models/views/keys';
import {
  call,
  envOf,
  type HttpResult,
  isolatedConfig,
  readEvents,
  type StoredEvent,
  tokenFor,
} from '../support/command-api';
import { projectionState } from '../support/projection-progress';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, freePort } from '../support/test-env';
import { abortedSpanCount } from '../support/transactional-log';

/** How long the read side may take to catch up once the load is over before the test fails. */
const CONVERGE_DEADLINE_MS = 90_000;
/** SIGKILLs of the command owner at most, until one leaves an aborted transaction behind. */
const MAX_CRASHES = 5;

const ORDER_STATUS: Record<string, string> = {
  OrderPlaced: 'pending',
  OrderConfirmed: 'confirmed',
  OrderShipped: 'shipped',
  OrderDelivered: 'delivered',
  OrderCancelled: 'cancelled',
  OrderReturned: 'returned',
};

/** The products and orders the committed events describe, folded here from the log alone. */
function fold(events: StoredEvent[]) {
  const products = new Map<string, { available: number; version: number }>();
  const orders = new Map<string, { status: string; version: number }>();
  for (const e of events) {
    if (e.type.startsWith('Order')) {
      const order = orders.get(e.aggregateId) ?? { status: 'pending', version: 0 };
      orders.set(e.aggregateId, {
        status: ORDER_STATUS[e.type] ?? order.status,
        version: e.aggregateVersion,
      });
    } else {
      const product = products.get(e.aggregateId) ?? { available: 0, version: 0 };
      const available =
        e.type === 'ProductCreated' ? e.data.initialStock : (e.data.available ?? product.available);
      products.set(e.aggregateId, { available: Number(available), version: e.aggregateVersion });
    }
  }
  return { products, orders };
}

/**
 * A command owner SIGKILLed mid-transaction while orders arrive leaves an aborted transaction
 * and its markers in the event topics; the projectors running all along still read past them,
 * and the read model and the views end equal to a fold over the committed events.
 */
describe('read side after a command owner crash', () => {
  let config: Config;
  const processes: ServiceProcess[] = [];
  const env = () => ({
    ...envOf(config),
    COMMAND_SESSION_TIMEOUT_MS: '6000',
    COMMAND_TIMEOUT_MS: '3000',
  });

  beforeAll(async () => {
    config = await isolatedConfig('owner-crash', {}, { stores: true });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  });

  const startCommandApi = async () => {
    const port = await freePort();
    const p = startServiceProcess('command-api/main.ts', port, {
      ...env(),
      COMMAND_API_PORT: String(port),
    });
    processes.push(p);
    await p.waitForLog((l) => l.msg === 'command-api listening');
    return p;
  };

  it('projections pass the aborted transactions and converge to a fold over the log', async () => {
    const names = topicNames(config.topics);
    const eventTopics = [names.productEvents, names.orderEvents];
    const projectors = startServiceProcess('projectors/main.ts', 0, env());
    processes.push(projectors);
    await projectors.waitForLog((l) => l.msg === 'projectors running');
    let api = await startCommandApi();

    const admin = await tokenFor(config, 'admin', 'alice');
    const customers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => tokenFor(config, 'customer', `crash-customer-${i}`)),
    );
    const products: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const created = await call(api.url, 'POST', '/products', {
        token: admin,
        body: {
          sku: `CRASH-${i}`,
          name: `Kettle ${i}`,
          category: 'kitchen',
          price: { amount: 2000 + i, currency: 'EUR' },
          initialStock: 100,
        },
        headers: { 'Idempotency-Key': `crash-product-${i}` },
      });
      expect(created.status).toBe(201);
      products.push(created.body.aggregateId as string);
    }

    // The load: 8 customers placing orders (and cancelling some), an admin restocking; about
    // 40 requests a second in all, to whichever process is up — and as fast as it answers in
    // a burst, so that its owners are mid-transaction when it is killed.
    const placed: string[] = [];
    let running = true;
    let burst = false;
    let sent = 0;
    const attempt = async (request: () => Promise<HttpResult>) => {
      try {
        return await request();
      } catch {
        return undefined; // refused or reset: the process is down, nothing acknowledged
      }
    };
    const worker = async (w: number) => {
      for (let n = 0; running; n += 1) {
        sent += 1;
        const productId = products[(w + n) % products.length] as string;
        const token = customers[w] as string;
        if (w === 0) {
          await attempt(() =>
            call(api.url, 'POST', `/products/${productId}/restock`, {
              token: admin,
              body: { quantity: 1 + (n % 4) },
            }),
          );
        } else {
          const order = await attempt(() =>
            call(api.url, 'POST', '/orders', {
              token,
              body: { items: [{ productId, quantity: 1 }] },
            }),
          );
          if (order?.status === 201) {
            const orderId = order.body.aggregateId as string;
            placed.push(orderId);
            if (n % 4 === 0) {
              await attempt(() =>
                call(api.url, 'POST', `/orders/${orderId}/cancel`, {
                  token,
                  body: { reason: 'changed my mind' },
                }),
              );
            }
          }
        }
        if (!burst) await new Promise((r) => setTimeout(r, 200));
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));

    // SIGKILL the owner of every partition mid-load and start it again, until a transaction
    // it had open is left aborted in the event topics.
    let crashes = 0;
    let aborted = 0;
    try {
      while (crashes < MAX_CRASHES && aborted === 0) {
        const before = sent;
        await eventually(
          async () => sent,
          (s) => s >= before + 120,
          60_000,
        );
        burst = true;
        await new Promise((r) => setTimeout(r, 300 + Math.random() * 200));
        await api.kill('SIGKILL');
        burst = false;
        crashes += 1;
        api = await startCommandApi();
        const acknowledged = placed.length;
        // The new owner took over (it fenced the old one's transactions) and acknowledges again.
        await eventually(
          async () => placed.length,
          (n) => n > acknowledged + 10,
          60_000,
        );
        aborted = await abortedSpanCount(config, eventTopics);
      }
    } finally {
      running = false;
      await load;
    }
    // The scenario happened: aborted event records sit in the log between committed ones.
    expect(aborted).toBeGreaterThan(0);

    for (const name of ['read-model', 'views'] as const) {
      const state = await eventually(
        () => projectionState(config, name, 1),
        (s) => s.lag === 0n,
        CONVERGE_DEADLINE_MS,
      );
      expect({ name, lag: state.lag }).toEqual({ name, lag: 0n });
    }

    const events = (await Promise.all(eventTopics.map((t) => readEvents(config, t)))).flat();
    const expected = fold(events);
    expect(expected.orders.size).toBeGreaterThan(100);
    // Every acknowledged order is in the log (exactly once: the fold has one entry per order).
    expect(placed.filter((id) => !expected.orders.has(id))).toEqual([]);

    // The Postgres read model holds exactly what the fold holds.
    const rows = {
      products: new Map<string, { available: number; version: number }>(),
      orders: new Map<string, { status: string; version: number }>(),
    };
    const schema = schemaFor(1);
    for (const url of config.postgres.shardUrls) {
      const pool = new Pool({ connectionString: url, max: 1 });
      try {
        for (const r of (
          await pool.query(`select product_id, available, version from ${schema}.products`)
        ).rows) {
          rows.products.set(r.product_id, { available: r.available, version: r.version });
        }
        for (const r of (await pool.query(`select order_id, status, version from ${schema}.orders`))
          .rows) {
          rows.orders.set(r.order_id, { status: r.status, version: r.version });
        }
      } finally {
        await pool.end();
      }
    }
    expect(rows.products).toEqual(expected.products);
    expect(rows.orders).toEqual(expected.orders);

    // So do the Redis views.
    const redis = new Redis(config.redis.url);
    try {
      const keys = viewsKeys(config.redis.keyPrefix, 1);
      const views = { products: new Map(), orders: new Map() };
      for (const productId of expected.products.keys()) {
        const [available, version] = await redis.hmget(
          keys.productKey(productId),
          'available',
          'version',
        );
        views.products.set(productId, { available: Number(available), version: Number(version) });
      }
      for (const orderId of expected.orders.keys()) {
        views.orders.set(orderId, await redis.hget(keys.orderKey(orderId), 'status'));
      }
      expect(views.products).toEqual(expected.products);
      expect(views.orders).toEqual(
        new Map([...expected.orders].map(([id, order]) => [id, order.status])),
      );
    } finally {
      redis.disconnect();
    }
  }, 400_000);
});
