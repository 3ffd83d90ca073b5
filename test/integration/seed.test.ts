import { SEED_CATEGORIES, SEED_ORDERS, SEED_PRODUCTS } from '../../cli/seed';
import type { Config } from '../../lib/config';
import { topicNames } from '../../lib/topics';
import {
  envOf,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  startCommandApi,
} from '../support/command-api';
import { freePort, runCli } from '../support/test-env';

describe('orderstream seed', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    config = await isolatedConfig('seed', { COMMAND_TIMEOUT_MS: '15000' });
    api = await startCommandApi(config);
  });
  afterAll(() => api.stop());

  const events = async () => {
    const topics = topicNames(config.topics);
    return {
      products: await readEvents(config, topics.productEvents),
      orders: await readEvents(config, topics.orderEvents),
    };
  };

  it('creates the four categories with stock and the customers orders through the command API, and a re-run appends nothing', async () => {
    const first = await runCli(['seed', '--url', api.url], envOf(config));
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^seed: 12 products in electronics, books, clothing, home; 5 orders/,
    );

    const after = await events();
    const created = after.products.filter((e) => e.type === 'ProductCreated');
    expect(created.map((e) => e.data.sku).sort()).toEqual(SEED_PRODUCTS.map((p) => p.sku).sort());
    expect(new Set(created.map((e) => e.data.category))).toEqual(new Set(SEED_CATEGORIES));
    for (const e of created) expect(e.data.initialStock).toBeGreaterThan(0);
    const placed = after.orders.filter((e) => e.type === 'OrderPlaced');
    const orderCount = Object.values(SEED_ORDERS).reduce((n, orders) => n + orders.length, 0);
    expect(placed).toHaveLength(orderCount);
    expect(new Set(placed.map((e) => e.data.customerId))).toEqual(
      new Set(Object.keys(SEED_ORDERS)),
    );
    // Each order's lines name seeded products, by the ids the creates gave them.
    const productIds = new Set(created.map((e) => e.aggregateId));
    for (const e of placed) {
      for (const line of e.data.lines as { productId: string }[]) {
        expect(productIds.has(line.productId)).toBe(true);
      }
    }

    const again = await runCli(['seed', '--url', api.url], envOf(config));
    expect(again.code).toBe(0);
    const afterAgain = await events();
    expect(afterAgain.products).toHaveLength(after.products.length);
    expect(afterAgain.orders).toHaveLength(after.orders.length);
  });

  it('names the command API it could not reach in one line, and exits 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['seed', '--url', url], envOf(config));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^error: command API not reachable at ${url} .*npm start`),
    );
  });
});
