import { Redis } from 'ioredis';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createKafkaClient, partitionOf } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { startProjectors } from '../../projectors/service';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { viewsKeys } from '../../read-models/views/keys';
import { call, isolatedConfig, tokenFor } from '../support/command-api';
import { projectionState } from '../support/projection-progress';
import { eventually, silentLogger } from '../support/test-env';
import { appendTransactions, type LogEvent } from '../support/transactional-log';

/** How long the projections may take to apply these few events before the test fails. */
const DEADLINE_MS = 45_000;

/**
 * The log is the truth, old events included: an event whose text holds NUL (which Postgres
 * text cannot) written before the APIs refused it is still projected — the read model stores
 * it encoded and the query API gives it back as the log has it; nothing is set aside.
 */
describe('events whose text holds NUL', () => {
  let config: Config;
  let query: { api: QueryApi; server: RunningServer };
  const productId = 'nul-product-1';
  const orderId = 'nul-order-1';
  const customerId = 'nul-customer-1';
  const name = 'Lamp\u0000Deluxe';
  const description = 'two\u0000lines\nand a \u0001';
  const category = 'home\u0000garden';
  const reason = 'changed\u0000my mind';

  beforeAll(async () => {
    config = await isolatedConfig('log-text', {}, { stores: true });
    const names = topicNames(config.topics);
    const product = (version: number, event: LogEvent['event']): LogEvent => ({
      aggregateId: productId,
      version,
      event,
    });
    const order = (version: number, event: LogEvent['event']): LogEvent => ({
      aggregateId: orderId,
      version,
      event,
    });
    // Straight into the event topics, as an older command API would have written them.
    await appendTransactions(
      config,
      names.productEvents,
      partitionOf(productId, config.topics.partitions),
      [
        {
          outcome: 'commit',
          events: [
            product(1, {
              type: 'ProductCreated',
              productId,
              sku: 'SKU\u0000NUL',
              name,
              description,
              category,
              price: { amount: 1999, currency: 'EUR' },
              initialStock: 7,
            }),
          ],
        },
      ],
    );
    const line = { productId, quantity: 2, unitPrice: { amount: 1999, currency: 'EUR' } };
    await appendTransactions(
      config,
      names.orderEvents,
      partitionOf(orderId, config.topics.partitions),
      [
        {
          outcome: 'commit',
          events: [
            order(1, {
              type: 'OrderPlaced',
              orderId,
              customerId,
              lines: [line],
              total: { amount: 3998, currency: 'EUR' },
            }),
            order(2, { type: 'OrderConfirmed', orderId, customerId }),
            order(3, { type: 'OrderCancelled', orderId, customerId, reason }),
          ],
        },
      ],
    );

    const projectors = await startProjectors(config, silentLogger());
    try {
      for (const projection of ['read-model', 'views'] as const) {
        await eventually(
          () => projectionState(config, projection, 1),
          (s) => s.lag === 0n,
          DEADLINE_MS,
        );
      }
    } finally {
      await projectors.stop();
    }
    const api = createQueryApi(config, silentLogger());
    query = { api, server: await listen(api.app, '127.0.0.1', 0) };
  });

  afterAll(async () => {
    await query?.server.close();
    await query?.api.close();
  });

  it('sets nothing aside in the projector dead-letter topic, and both projections reach the end', async () => {
    for (const projection of ['read-model', 'views'] as const) {
      expect((await projectionState(config, projection, 1)).lag).toBe(0n);
    }
    const admin = createKafkaClient(config).admin();
    const dlq = await admin.offsets(topicNames(config.topics).projectorDeadLetter);
    await admin.close();
    expect(dlq.reduce((sum, p) => sum + Number(p.high), 0)).toBe(0);
  });

  it('reads the product back from the read model with its text intact', async () => {
    const token = await tokenFor(config, 'admin', 'alice');
    const product = await call(query.server.url, 'GET', `/products/${productId}`, { token });
    expect(product.status).toBe(200);
    expect(product.body).toMatchObject({
      productId,
      sku: 'SKU\u0000NUL',
      name,
      description,
      category,
      available: 7,
    });
    const stock = await call(query.server.url, 'GET', `/products/${productId}/stock`, { token });
    expect(stock.body).toEqual({ productId, available: 7, discontinued: false });
    const categories = await call(query.server.url, 'GET', '/categories', { token });
    expect(categories.body).toEqual([{ category, count: 1 }]);
  });

  it('shows the order cancelled, with its reason, in the read model and the views', async () => {
    const token = await tokenFor(config, 'customer', customerId);
    const read = await call(query.server.url, 'GET', `/orders/${orderId}`, { token });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ orderId, status: 'cancelled', cancelReason: reason });
    const history = await call(query.server.url, 'GET', `/orders/${orderId}/history`, { token });
    expect((history.body as unknown as { data: { reason?: string } }[]).at(-1)?.data.reason).toBe(
      reason,
    );
    const list = await call(query.server.url, 'GET', `/customers/${customerId}/orders`, { token });
    expect(list.body.items).toEqual([
      expect.objectContaining({ orderId, status: 'cancelled', cancelReason: reason }),
    ]);

    const redis = new Redis(config.redis.url);
    try {
      const keys = viewsKeys(config.redis.keyPrefix, 1);
      expect(await redis.hmget(keys.orderKey(orderId), 'status', 'reason')).toEqual([
        'cancelled',
        reason,
      ]);
      expect(await redis.hget(keys.productKey(productId), 'name')).toBe(name);
    } finally {
      redis.disconnect();
    }
  });
});
