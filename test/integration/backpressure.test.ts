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

/**
 * Backpressure (issue 10): a command-api process holds a bounded number of commands in flight
 * (COMMAND_MAX_IN_FLIGHT). Past it a command is refused at once with 503 problem+json and
 * Retry-After — never a 500 — and a refused command appends nothing.
 */
describe('more commands than a process takes at once', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    config = await isolatedConfig('backpressure', { COMMAND_MAX_IN_FLIGHT: '4' });
    api = await startCommandApi(config);
  });
  afterAll(() => api?.stop());

  it('refuses the excess with 503 and Retry-After, and appends exactly the accepted ones', async () => {
    const admin = await tokenFor(config, 'admin', 'alice');
    const customer = await tokenFor(config, 'customer', 'c-flood');
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'FLOOD-1',
        name: 'Flood',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 1000,
      },
    });
    expect(created.status).toBe(201);
    const productId = created.body.aggregateId as string;

    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        call(api.url, 'POST', '/orders', {
          token: customer,
          headers: { 'Idempotency-Key': `flood-${i}` },
          body: { items: [{ productId, quantity: 1 }] },
        }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body).toMatchObject({ status: 503, type: 'urn:orderstream:problem:unavailable' });
    }
    const placed = (await readEvents(config, topicNames(config.topics).orderEvents)).filter(
      (e) => e.type === 'OrderPlaced',
    );
    const accepted = answers.filter((a) => a.status === 201).map((a) => a.body.aggregateId);
    expect(placed.map((e) => e.aggregateId).sort()).toEqual(accepted.sort());
  });
});
