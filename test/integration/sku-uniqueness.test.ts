import type { Config } from '../../lib/config';
import { partitionOf } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import {
  call,
  type HttpResult,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  startCommandApi,
  tokenFor,
} from '../support/command-api';

/**
 * Issue 9, item 9: a SKU names one product. A new product's id is chosen in its SKU's
 * partition, whose single owner refuses a SKU that a live product holds (409 sku_taken),
 * also after a restart (it rebuilds the holders from the events); a discontinued product's
 * SKU may be reused.
 */
describe('a SKU names one live product', () => {
  let config: Config;
  let api: RunningCommandApi | undefined;
  let admin: string;
  let topics: ReturnType<typeof topicNames>;

  beforeAll(async () => {
    config = await isolatedConfig('sku', { COMMAND_TIMEOUT_MS: '15000' });
    topics = topicNames(config.topics);
    api = await startCommandApi(config);
    admin = await tokenFor(config, 'admin', 'alice');
  });
  afterAll(() => api?.stop());

  const url = () => (api as RunningCommandApi).url;
  const create = (sku: string, name = 'Mug', headers: Record<string, string> = {}) =>
    call(url(), 'POST', '/products', {
      token: admin,
      headers,
      body: { sku, name, category: 'kitchen', price: { amount: 1299, currency: 'EUR' } },
    });
  const createdWith = async (sku: string) =>
    (await readEvents(config, topics.productEvents)).filter(
      (e) => e.type === 'ProductCreated' && e.data.sku === sku,
    );
  const expectTaken = (res: HttpResult, holder: string) => {
    expect(res.status).toBe(409);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 409, code: 'sku_taken' });
    expect(res.body.detail).toContain(holder);
  };

  it('lets exactly one of several concurrent creates with one SKU through; the others are 409 sku_taken', async () => {
    const results = await Promise.all(
      ['Red mug', 'Blue mug', 'Green mug', 'Grey mug', 'Pink mug'].map((name) =>
        create('MUG-1', name),
      ),
    );
    const winners = results.filter((r) => r.status === 201);
    expect(winners).toHaveLength(1);
    const holder = winners[0]?.body.aggregateId as string;
    for (const loser of results.filter((r) => r.status !== 201)) expectTaken(loser, holder);

    const events = await createdWith('MUG-1');
    expect(events.map((e) => e.aggregateId)).toEqual([holder]);
    // The product lives in its SKU's partition: the owner that sees every claim on the SKU.
    expect(events[0]?.partition).toBe(partitionOf('MUG-1', config.topics.partitions));
  });

  it('frees the SKU of a discontinued product; the new product then holds it, also for a replaying owner', async () => {
    const first = await create('CUP-1');
    expect(first.status).toBe(201);
    const firstId = first.body.aggregateId as string;
    expectTaken(await create('CUP-1'), firstId);

    const discontinued = await call(url(), 'DELETE', `/products/${firstId}`, { token: admin });
    expect(discontinued.status).toBe(200);
    const second = await create('CUP-1', 'Cup, new edition');
    expect(second.status).toBe(201);
    const secondId = second.body.aggregateId as string;
    expect(secondId).not.toBe(firstId);
    expectTaken(await create('CUP-1'), secondId);

    // A new command service: the owners rebuild who holds which SKU from the events.
    await api?.stop();
    api = undefined;
    api = await startCommandApi(config);
    expectTaken(await create('CUP-1'), secondId);
    expectTaken(await create('MUG-1'), (await createdWith('MUG-1'))[0]?.aggregateId as string);
    expect((await create('CUP-2')).status).toBe(201);
    expect((await createdWith('CUP-1')).map((e) => e.aggregateId)).toEqual([firstId, secondId]);
  });

  it('refuses an Idempotency-Key reused for a SKU of another partition (422), before and after a restart', async () => {
    const partitions = config.topics.partitions;
    const skuA = 'KEY-A';
    let skuB = 'KEY-B0';
    for (let i = 1; partitionOf(skuB, partitions) === partitionOf(skuA, partitions); i += 1) {
      skuB = `KEY-B${i}`;
    }
    const headers = { 'Idempotency-Key': 'create-key-1' };
    const first = await create(skuA, 'Mug', headers);
    expect(first.status).toBe(201);
    const reused = await create(skuB, 'Mug', headers);
    expect(reused.status).toBe(422);
    expect(reused.body.code).toBe('idempotency_key_reused');
    expect((await create(skuA, 'Mug', headers)).text).toBe(first.text);

    await api?.stop();
    api = undefined;
    api = await startCommandApi(config);
    const reusedLater = await create(skuB, 'Mug', headers);
    expect(reusedLater.status).toBe(422);
    expect(reusedLater.body.code).toBe('idempotency_key_reused');
    expect((await create(skuA, 'Mug', headers)).text).toBe(first.text);
    expect(await createdWith(skuB)).toEqual([]);
  });
});
