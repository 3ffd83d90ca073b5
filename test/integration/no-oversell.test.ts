import { type ProductEvent, productDecider } from '../../domain';
import type { Config } from '../../lib/config';
import { topicNames } from '../../lib/topics';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  startCommandApi,
  tokenFor,
} from '../support/command-api';

/** Single writer per partition: concurrent reservations of one product are decided one by one. */
describe('no oversell', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    config = await isolatedConfig('oversell', {
      COMMAND_TIMEOUT_MS: '60000',
      // Every one of the 500 is decided (none refused as overload): this is about stock.
      COMMAND_QUEUE_BUDGET_MS: '60000',
    });
    api = await startCommandApi(config);
  });
  afterAll(() => api.stop());

  it('a product with stock 50 and 500 concurrent reservations of 1: exactly 50 succeed, the log never goes below 0', async () => {
    const admin = await tokenFor(config, 'admin', 'alice');
    const service = await tokenFor(config, 'service', 'saga');
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'HOT-1',
        name: 'Flash',
        category: 'sale',
        price: { amount: 500, currency: 'EUR' },
        initialStock: 50,
      },
    });
    const productId = created.body.aggregateId as string;

    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        call(api.url, 'POST', `/products/${productId}/reservations`, {
          token: service,
          body: { orderId: `order-${i}`, quantity: 1 },
        }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const r of results) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
    expect(Object.fromEntries(byStatus)).toEqual({ 200: 50, 409: 450 });
    for (const r of results.filter((r) => r.status === 409))
      expect(r.body.code).toBe('insufficient_stock');

    // Replaying the events topic gives stock 0, and no event ever left it negative.
    const events = (await readEvents(config, topicNames(config.topics).productEvents)).filter(
      (e) => e.aggregateId === productId,
    );
    expect(events.filter((e) => e.type === 'StockReserved')).toHaveLength(50);
    let state = productDecider.initialState;
    for (const e of events) {
      state = productDecider.evolve(state, { type: e.type, ...e.data } as ProductEvent);
      if ('available' in e.data) expect(e.data.available).toBeGreaterThanOrEqual(0);
    }
    expect(state).toMatchObject({ exists: true, available: 0 });
  });
});
