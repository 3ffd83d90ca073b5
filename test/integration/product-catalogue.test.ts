import { OverloadedError } from '../../command-api/command-router';
import { ProductCatalogue } from '../../command-api/product-catalogue';
import type { Config } from '../../lib/config';
import { createKafkaClient, type KafkaClient, type LogReader } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { silentLogger } from '../support/test-env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `real` with the admin's offsets answered `adminMs` late and the reader's batches `readMs` late. */
function slowed(real: KafkaClient, adminMs: number, readMs: number): KafkaClient {
  const bound = <T extends object>(target: T, prop: string | symbol): unknown => {
    const value: unknown = Reflect.get(target, prop);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'admin')
        return () => {
          const admin = target.admin();
          return new Proxy(admin, {
            get: (a, p) =>
              p === 'offsets'
                ? async (topic: string) => {
                    const ends = await a.offsets(topic);
                    await sleep(adminMs);
                    return ends;
                  }
                : bound(a, p),
          });
        };
      if (prop === 'reader')
        return () => {
          const reader = target.reader();
          return new Proxy(reader, {
            get: (r, p) =>
              p === 'read'
                ? (...[ranges, onBatch, onProgress]: Parameters<LogReader['read']>) =>
                    r.read(
                      ranges,
                      async (batch) => {
                        await sleep(readMs);
                        await onBatch(batch);
                      },
                      onProgress,
                    )
                : bound(r, p),
          });
        };
      return bound(target, prop);
    },
  });
}

/**
 * The command API prices orders from its product catalogue, read from the product events. A
 * catalogue still behind the log (a busy process) must not call an existing product unknown:
 * CI once answered 422 `unknown_product` for a product created a moment before.
 */
describe('the product catalogue', () => {
  let config: Config;
  let commands: RunningCommandApi;
  let productId: string;

  beforeAll(async () => {
    config = await isolatedConfig('product-catalogue');
    commands = await startCommandApi(config);
    const created = await call(commands.url, 'POST', '/products', {
      token: await tokenFor(config, 'admin', 'alice'),
      body: {
        sku: 'CAT-1',
        name: 'Mug',
        category: 'kitchen',
        price: { amount: 1299, currency: 'EUR' },
        initialStock: 10,
      },
    });
    expect(created.status).toBe(201);
    productId = created.body.aggregateId as string;
  });
  afterAll(() => commands?.stop());

  it('says it is behind (retry later) rather than that a product it has not read is unknown', async () => {
    const catalogue = new ProductCatalogue(
      createKafkaClient(config),
      silentLogger(),
      topicNames(config.topics).productEvents,
    );
    try {
      // Not reading yet: it cannot reach the log's end within the wait.
      await expect(catalogue.lookup(productId, 300)).rejects.toBeInstanceOf(OverloadedError);
      await catalogue.start();
      expect(await catalogue.lookup(productId, 10_000)).toMatchObject({
        price: { amount: 1299, currency: 'EUR' },
        discontinued: false,
      });
      // Caught up, a product the log never had is unknown.
      expect(await catalogue.lookup('no-such-product', 10_000)).toBeUndefined();
    } finally {
      await catalogue.stop();
    }
  });
  it('never takes a log end asked before the lookup began for the one it needs', async () => {
    // A slow admin (its answer, taken now, arrives 3 s later) and a slower reader (each batch
    // reaches the catalogue 6 s late), as in a busy process.
    const real = createKafkaClient(config);
    const kafka = slowed(real, 3000, 6000);
    const catalogue = new ProductCatalogue(
      kafka,
      silentLogger(),
      topicNames(config.topics).productEvents,
    );
    try {
      await catalogue.start();
      expect(await catalogue.lookup('never-made', 20_000)).toBeUndefined();
      // A lookup whose question about the log's end is on its way…
      const earlier = catalogue.lookup('never-made-either', 20_000);
      // …while a product is created.
      const created = await call(commands.url, 'POST', '/products', {
        token: await tokenFor(config, 'admin', 'alice'),
        body: {
          sku: 'CAT-2',
          name: 'Cup',
          category: 'kitchen',
          price: { amount: 500, currency: 'EUR' },
          initialStock: 1,
        },
      });
      expect(created.status).toBe(201);
      const found = await catalogue.lookup(created.body.aggregateId as string, 20_000);
      expect(found).toMatchObject({ price: { amount: 500, currency: 'EUR' } });
      expect(await earlier).toBeUndefined();
    } finally {
      await catalogue.stop();
    }
  }, 60_000);
});
