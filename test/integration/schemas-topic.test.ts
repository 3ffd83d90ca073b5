import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Type } from 'avsc';
import { ORDER_COMMAND_SCHEMAS } from '../../domain/order/commands';
import { ORDER_EVENT_SCHEMAS } from '../../domain/order/events';
import { PRODUCT_COMMANDS } from '../../domain/product/messages';
import { ensureTopics } from '../../infra/kafka-topics';
import type { Config } from '../../lib/config';
import { issueToken } from '../../lib/http/auth';
import { type ConsumedRecord, createKafkaClient, readToEnd } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { freePort, REPO_ROOT, runConfig } from '../support/test-env';

/**
 * An outside consumer's view (DESIGN §2): this file decodes events with the records of
 * `<prefix>.schemas` alone. It imports nothing from schemas/ (nor test support that does); the
 * command API runs as its own process.
 */

const run = promisify(execFile);
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'sales-per-minute');

interface Published {
  fingerprint: string;
  kind: string;
  type: string;
  version: number;
  schema: unknown;
}

/** Every schema shipped, counted without the project's registry: the `.avsc` files on disk,
 *  a command and an event per product command module, and the order messages, declared in
 *  domain/. */
function shippedSchemas(): number {
  const dir = path.join(REPO_ROOT, 'schemas', 'avro');
  const files = ['events', 'commands']
    .map((sub) => path.join(dir, sub))
    .filter((sub) => fs.existsSync(sub))
    .map((sub) => fs.readdirSync(sub).filter((f) => f.endsWith('.avsc')).length)
    .reduce((a, b) => a + b, 0);
  return (
    files + 2 * PRODUCT_COMMANDS.length + ORDER_COMMAND_SCHEMAS.length + ORDER_EVENT_SCHEMAS.length
  );
}

describe('the schemas topic', () => {
  let config: Config;
  let topics: ReturnType<typeof topicNames>;
  let api: ServiceProcess | undefined;

  const startApi = async () => {
    const port = await freePort();
    api = startServiceProcess('command-api/main.ts', port, {
      TOPIC_PREFIX: config.topics.prefix,
      COMMAND_API_PORT: String(port),
      COMMAND_TIMEOUT_MS: '15000',
    });
    await api.waitForLog((l) => l.msg === 'command-api listening');
    return api;
  };

  const readAll = async (topic: string, partitions: number): Promise<ConsumedRecord[]> => {
    const records: ConsumedRecord[] = [];
    await readToEnd(
      createKafkaClient(config),
      Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
      (batch) => {
        records.push(...batch.records);
      },
    );
    return records;
  };

  const schemasEnd = async () => {
    const admin = createKafkaClient(config).admin();
    try {
      return (await admin.offsets(topics.schemas))[0]?.high;
    } finally {
      await admin.close();
    }
  };

  const post = async (path: string, token: string, body: unknown) => {
    const res = await fetch(`${api?.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as {
      aggregateId: string;
      events: { type: string; eventId: string; data: unknown }[];
    };
  };

  beforeAll(async () => {
    config = runConfig({ TOPIC_PREFIX: `${process.env.TOPIC_PREFIX}.schemas-topic` });
    topics = topicNames(config.topics);
    await ensureTopics(config);
    // The example is a package of its own: installed like a user would, from npm's cache here.
    if (!fs.existsSync(path.join(EXAMPLE, 'node_modules', 'kafkajs'))) {
      await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: EXAMPLE });
    }
  }, 180_000);
  afterAll(async () => {
    await api?.kill();
  });

  it('holds every schema, keyed by fingerprint, enough to decode every event; a restart writes nothing', async () => {
    await startApi();
    const admin = await issueToken(config.jwt, 'alice', 'admin');
    const customer = await issueToken(config.jwt, 'c-schemas', 'customer');
    const product = await post('/products', admin, {
      sku: 'SCHEMA-1',
      name: 'Kettle',
      category: 'home',
      price: { amount: 3990, currency: 'EUR' },
      initialStock: 10,
    });
    const answers = [product];
    for (const quantity of [1, 2, 3]) {
      answers.push(
        await post('/orders', customer, { items: [{ productId: product.aggregateId, quantity }] }),
      );
    }

    const published = await readAll(topics.schemas, 1);
    expect(published).toHaveLength(shippedSchemas());
    const writers = new Map<string, Type>();
    for (const record of published) {
      const value = JSON.parse(String(record.value)) as Published;
      expect(String(record.key)).toBe(value.fingerprint);
      const type = Type.forSchema(value.schema as Parameters<typeof Type.forSchema>[0]);
      // The key is what it says: the sha256 of the schema's canonical form.
      expect(type.fingerprint('sha256').toString('hex')).toBe(value.fingerprint);
      writers.set(value.fingerprint, type);
    }

    const stored = [
      ...(await readAll(topics.productEvents, config.topics.partitions)),
      ...(await readAll(topics.orderEvents, config.topics.partitions)),
    ];
    const decoded = new Map(
      stored.map((record) => {
        const writer = writers.get(String(record.headers['schema-fingerprint']));
        if (!writer) throw new Error(`no schema for ${String(record.headers['event-type'])}`);
        const payload = JSON.parse(JSON.stringify(writer.fromBuffer(record.value as Buffer)));
        return [String(record.headers['event-id']), payload];
      }),
    );
    const expected = answers.flatMap((a) => a.events);
    expect(decoded.size).toBe(expected.length);
    for (const event of expected) expect(decoded.get(event.eventId)).toEqual(event.data);

    const end = await schemasEnd();
    await api?.kill();
    await startApi();
    expect(await schemasEnd()).toBe(end);
  });

  it('lets the example consumer (examples/sales-per-minute) print sales per minute', async () => {
    const orders = (await readAll(topics.orderEvents, config.topics.partitions)).filter(
      (r) => String(r.headers['event-type']) === 'OrderPlaced',
    );
    expect(orders.length).toBeGreaterThan(0);
    // The fold the example should print: orders and totals per minute of `occurred-at`.
    const writers = new Map(
      (await readAll(topics.schemas, 1)).map((r) => {
        const value = JSON.parse(String(r.value)) as Published;
        return [
          value.fingerprint,
          Type.forSchema(value.schema as Parameters<typeof Type.forSchema>[0]),
        ];
      }),
    );
    const expected = new Map<string, { orders: number; totals: Record<string, number> }>();
    for (const record of orders) {
      const writer = writers.get(String(record.headers['schema-fingerprint'])) as Type;
      const { total } = writer.fromBuffer(record.value as Buffer) as {
        total: { amount: number; currency: string };
      };
      const minute = `${new Date(String(record.headers['occurred-at'])).toISOString().slice(0, 16)}Z`;
      const bucket = expected.get(minute) ?? { orders: 0, totals: {} };
      bucket.orders += 1;
      bucket.totals[total.currency] = (bucket.totals[total.currency] ?? 0) + total.amount;
      expected.set(minute, bucket);
    }

    const { stdout } = await run(process.execPath, ['index.js', '--json'], {
      cwd: EXAMPLE,
      env: {
        PATH: process.env.PATH,
        KAFKA_BROKERS: config.kafka.brokers.join(','),
        TOPIC_PREFIX: config.topics.prefix,
      },
      timeout: 60_000,
    });
    const printed = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { minute: string; orders: number; totals: object });
    expect(printed).toEqual(
      [...expected.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([minute, bucket]) => ({ minute, ...bucket })),
    );
  });

  it('keeps the example a package of its own: it imports none of the project', () => {
    const source = fs.readFileSync(path.join(EXAMPLE, 'index.js'), 'utf8');
    const imports = [...source.matchAll(/require\('([^']+)'\)/g)].map((m) => m[1]);
    expect(imports.sort()).toEqual(['avsc', 'kafkajs', 'node:crypto']);
    expect(fs.existsSync(path.join(EXAMPLE, 'package-lock.json'))).toBe(true);
  });
});
