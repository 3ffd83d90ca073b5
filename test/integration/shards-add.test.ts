import { Client, escapeIdentifier, Pool } from 'pg';
import { rebuild } from '../../cli/replay';
import { growShards } from '../../cli/shards';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { ringOf } from '../../lib/sharding-ring';
import { startProjectors } from '../../projectors/service';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { checksum } from '../../read-models/postgres/checksum';
import { readGeneration, readRingSize, schemaFor } from '../../read-models/postgres/generations';
import { ensureGeneration, generationExists } from '../../read-models/postgres/schema';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { eventually, runCli, runConfig, silentLogger } from '../support/test-env';

const NAME = 'shards-add';
const ORDERS_PER_CUSTOMER = 3;

/**
 * Customers whose orders sit on every shard of the 6-shard ring (so the grown read model has
 * rows on the two new databases), and some that move from their 4-ring shard.
 */
function pickCustomers(): string[] {
  const six = ringOf(6);
  const picked: string[] = [];
  const covered = new Set<number>();
  for (let i = 0; picked.length < 8 || covered.size < 6; i++) {
    const id = `c-grow-${i}`;
    const shard = six.shardFor(id);
    if (picked.length < 8 || !covered.has(shard)) {
      picked.push(id);
      covered.add(shard);
    }
  }
  return picked;
}

async function query<R>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as R[];
  } finally {
    await client.end();
  }
}

/**
 * `orderstream shards add --to 6` against a live read side: the projectors and the query API
 * run on 4 shards (POSTGRES_SHARDS=4) and are not restarted; the grow runs with
 * POSTGRES_SHARDS=6 as its own configuration, as an operator's would.
 */
describe('growing the read model from 4 to 6 shards by replay', () => {
  let four: Config;
  let six: Config;
  let commands: RunningCommandApi;
  let projectors: { stop: () => Promise<void> };
  let api: QueryApi;
  let server: RunningServer;
  let admin: string;
  const customers = pickCustomers();
  /** Each customer's order ids, newest first as the API lists them. */
  const expected = new Map<string, string[]>();
  const productIds: string[] = [];

  beforeAll(async () => {
    four = await isolatedConfig(NAME, { POSTGRES_SHARDS: '4' }, { stores: true });
    four = { ...four, readSide: { ...four.readSide, projections: ['read-model'] } };
    six = runConfig({
      TOPIC_PREFIX: four.topics.prefix,
      POSTGRES_DATABASE_PREFIX: four.postgres.databasePrefix,
      REDIS_KEY_PREFIX: four.redis.keyPrefix,
      POSTGRES_SHARDS: '6',
    });
    expect(four.postgres.shardUrls).toEqual(six.postgres.shardUrls.slice(0, 4));

    commands = await startCommandApi(four);
    projectors = await startProjectors(four, silentLogger());
    api = createQueryApi(four, silentLogger());
    server = await listen(api.app, '127.0.0.1', 0);
    admin = await tokenFor(four, 'admin', 'grower');

    for (let p = 0; p < 3; p++) {
      const created = await call(commands.url, 'POST', '/products', {
        token: admin,
        body: {
          sku: `GROW-${p}`,
          name: `Lamp ${p}`,
          category: 'home',
          price: { amount: 1000 + p, currency: 'EUR' },
          initialStock: 1000,
        },
      });
      expect(created.status).toBe(201);
      productIds.push(created.body.aggregateId as string);
    }
    for (const customer of customers) {
      const token = await tokenFor(four, 'customer', customer);
      for (let o = 0; o < ORDERS_PER_CUSTOMER; o++) {
        const placed = await call(commands.url, 'POST', '/orders', {
          token,
          body: { items: [{ productId: productIds[o % productIds.length], quantity: 1 }] },
        });
        expect(placed.status).toBe(201);
      }
      // Orders spread over the event partitions: wait until all are projected.
      const read = await eventually(
        () => call(server.url, 'GET', `/customers/${customer}/orders?limit=100`, { token: admin }),
        (r) => r.status === 200 && (r.body.items as unknown[]).length === ORDERS_PER_CUSTOMER,
      );
      const ids = (read.body.items as { orderId: string }[]).map((o) => o.orderId);
      expect(new Set(ids).size).toBe(ORDERS_PER_CUSTOMER);
      expected.set(customer, ids);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await api?.close();
    await projectors?.stop();
    await commands?.stop();
    for (const url of six?.postgres.shardUrls ?? []) {
      const database = new URL(url).pathname.slice(1);
      await query(
        four.postgres.adminUrl,
        `drop database if exists ${escapeIdentifier(database)} with (force)`,
      ).catch(() => undefined);
    }
  });

  it('refuses to grow past the configured shards, naming the setting to raise', async () => {
    await expect(growShards(four, 6, () => undefined)).rejects.toThrow(
      'POSTGRES_SHARDS is 4: set POSTGRES_SHARDS=6',
    );
    const cli = await runCli(['shards', 'add', '--to', '6'], {
      TOPIC_PREFIX: four.topics.prefix,
      POSTGRES_DATABASE_PREFIX: four.postgres.databasePrefix,
      REDIS_KEY_PREFIX: four.redis.keyPrefix,
      POSTGRES_SHARDS: '4',
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('POSTGRES_SHARDS is 4: set POSTGRES_SHARDS=6 to grow to 6 shards');
  });

  it('builds the new generation on 6 databases while the 4 serve, switches with no failed or partial read, and keeps each customer together', async () => {
    const shard0 = new Pool({ connectionString: four.postgres.shardUrls[0], max: 1 });
    const before = await readGeneration(shard0);
    const sumBefore = await checksum(four.postgres.shardUrls, before);

    // Readers hit the query API the whole time: every answer must be 200 and complete.
    const failures: string[] = [];
    let reads = 0;
    let reading = true;
    const readerLoop = (async () => {
      for (let round = 0; reading; round++) {
        for (const customer of customers) {
          const want = expected.get(customer) as string[];
          const orders = await call(server.url, 'GET', `/customers/${customer}/orders?limit=100`, {
            token: admin,
          });
          reads++;
          const got = (orders.body.items as { orderId: string }[] | undefined)?.map(
            (o) => o.orderId,
          );
          if (orders.status !== 200 || JSON.stringify(got) !== JSON.stringify(want)) {
            failures.push(`${customer}: ${orders.status} ${orders.text.slice(0, 200)}`);
          }
          // A lookup by order id asks every shard of the generation read.
          const one = await call(server.url, 'GET', `/orders/${want[round % want.length]}`, {
            token: admin,
          });
          reads++;
          if (one.status !== 200 || one.body.customerId !== customer) {
            failures.push(`order of ${customer}: ${one.status} ${one.text.slice(0, 200)}`);
          }
        }
        const products = await call(server.url, 'GET', '/products?limit=100', { token: admin });
        reads++;
        const listed = (products.body.items as { productId: string }[] | undefined)?.map(
          (p) => p.productId,
        );
        if (
          products.status !== 200 ||
          JSON.stringify([...(listed ?? [])].sort()) !== JSON.stringify([...productIds].sort())
        ) {
          failures.push(`products: ${products.status} ${products.text.slice(0, 200)}`);
        }
      }
    })();

    const said: string[] = [];
    try {
      await growShards(six, 6, (line) => said.push(line));
      // Keep reading past the switch and the old generation's drop.
      await new Promise((resolve) => setTimeout(resolve, 1500));
    } finally {
      reading = false;
      await readerLoop;
    }
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(100);
    expect(said.join('\n')).toMatch(
      new RegExp(
        `replaying into generation ${before + 1} \\(6 shards\\) while generation ${before} \\(4 shards\\) serves`,
      ),
    );

    const after = before + 1;
    const sixUrls = six.postgres.shardUrls;
    try {
      expect(await readGeneration(shard0)).toBe(after);
      expect(await readRingSize(shard0, after)).toBe(6);
    } finally {
      await shard0.end();
    }
    // Same rows, now over 6 databases; the old generation is gone from the 4.
    expect(await checksum(sixUrls, after)).toBe(sumBefore);
    for (const url of four.postgres.shardUrls) {
      const db = new Pool({ connectionString: url, max: 1 });
      try {
        expect(await generationExists(db, before)).toBe(false);
      } finally {
        await db.end();
      }
    }

    // Each customer's orders on one shard: the one the 6-shard ring gives the customer.
    const schema = escapeIdentifier(schemaFor(after));
    const perShard = await Promise.all(
      sixUrls.map((url) =>
        query<{ customer_id: string; orders: string }>(
          url,
          `select customer_id, count(*)::text as orders from ${schema}.orders group by customer_id`,
        ),
      ),
    );
    const ring = ringOf(6);
    for (const customer of customers) {
      const holders = perShard.flatMap((rows, shard) =>
        rows.some((r) => r.customer_id === customer) ? [shard] : [],
      );
      expect({ customer, holders }).toEqual({ customer, holders: [ring.shardFor(customer)] });
      const count = perShard[ring.shardFor(customer)]?.find((r) => r.customer_id === customer);
      expect(Number(count?.orders)).toBe(ORDERS_PER_CUSTOMER);
    }
    expect(perShard[4]?.length).toBeGreaterThan(0);
    expect(perShard[5]?.length).toBeGreaterThan(0);
    // Some customers moved: the 4-shard ring put them elsewhere.
    expect(customers.some((c) => ringOf(4).shardFor(c) !== ring.shardFor(c))).toBe(true);

    // The live projectors (configured for 4, not restarted) now write the new generation on
    // its 6-shard ring: a new order of a customer on a new database is read back.
    const newcomer = customers.find((c) => ring.shardFor(c) >= 4) as string;
    const placed = await call(commands.url, 'POST', '/orders', {
      token: await tokenFor(four, 'customer', newcomer),
      body: { items: [{ productId: productIds[0], quantity: 2 }] },
    });
    expect(placed.status).toBe(201);
    const read = await call(server.url, 'GET', `/customers/${newcomer}/orders?limit=100`, {
      token: admin,
      headers: { 'X-Consistency-Token': placed.headers.get('x-consistency-token') as string },
    });
    expect(read.status).toBe(200);
    expect((read.body.items as unknown[]).length).toBe(ORDERS_PER_CUSTOMER + 1);
    const onItsShard = await query<{ n: string }>(
      sixUrls[ring.shardFor(newcomer)] as string,
      `select count(*)::text as n from ${schema}.orders where customer_id = $1`,
      [newcomer],
    );
    expect(onItsShard[0]?.n).toBe(String(ORDERS_PER_CUSTOMER + 1));
  }, 180_000);

  it('refuses to shrink', async () => {
    await expect(growShards(six, 5, () => undefined)).rejects.toThrow(
      /uses 6 shards .*shrinking to 5 is not supported/,
    );
  });

  it('replay keeps the grown ring, dropping a half-built generation left on another ring', async () => {
    const shard0 = new Pool({ connectionString: six.postgres.shardUrls[0], max: 1 });
    try {
      const current = await readGeneration(shard0);
      const sum = await checksum(six.postgres.shardUrls, current);
      // As an interrupted grow to 5 would leave it: the next generation on a 5-shard ring.
      await ensureGeneration(six.postgres.shardUrls.slice(0, 5), current + 1, 5);
      const said: string[] = [];
      await rebuild({ config: six, projection: 'read-model', say: (line) => said.push(line) });
      expect(said).toContain(
        `read-model: dropped generation ${current + 1}, left by an interrupted build on another ring`,
      );
      expect(await readGeneration(shard0)).toBe(current + 1);
      expect(await readRingSize(shard0, current + 1)).toBe(6);
      expect(await checksum(six.postgres.shardUrls, current + 1)).toBe(sum);
    } finally {
      await shard0.end();
    }
  }, 120_000);
});
