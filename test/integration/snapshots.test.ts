import { Writable } from 'node:stream';
import pino from 'pino';
import {
  type PartitionSnapshot,
  readLatestSnapshot,
  type SnapshotFormat,
  snapshotRecords,
} from '../../command-api/processor/snapshots';
import { startCommandService } from '../../command-api/service';
import type { Config } from '../../lib/config';
import { listen } from '../../lib/http/serve';
import { createKafkaClient, readToEnd } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { topicNames } from '../../lib/topics';
import { call, isolatedConfig, tokenFor } from '../support/command-api';
import { eventually, silentLogger } from '../support/test-env';

/** A logger whose lines a test can read. */
function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream) as unknown as Logger, lines };
}

async function commandApi(config: Config, logger: Logger) {
  const service = await startCommandService(config, logger);
  const http = await listen(service.app, '127.0.0.1', 0);
  return {
    url: http.url,
    stop: async () => {
      await http.close();
      await service.stop();
    },
  };
}

/**
 * Issue 14, item 5: a partition owner writes a snapshot of its state every
 * SNAPSHOT_EVERY_EVENTS events, in its transaction; the next owner starts from the latest one
 * and replays only what came after, ending in the same state. A snapshot of another format
 * (older state version or event schemas), or a torn one, is never used.
 */
describe('partition owner snapshots', () => {
  it('a new owner starts from the snapshot, replays only the rest, and keeps stock and idempotency', async () => {
    const config = await isolatedConfig('snapshots', {
      SNAPSHOT_EVERY_EVENTS: '20',
      TOPIC_PARTITIONS: '1',
    });
    const first = await commandApi(config, silentLogger());
    const admin = await tokenFor(config, 'admin', 'alice');
    const customer = await tokenFor(config, 'customer', 'c-snap');
    const created = await call(first.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'SNAP-1',
        name: 'Snap',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 100,
      },
    });
    expect(created.status).toBe(201);
    const productId = created.body.aggregateId as string;
    const orders: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      const placed = await call(first.url, 'POST', '/orders', {
        token: customer,
        headers: { 'Idempotency-Key': `snap-${i}` },
        body: { items: [{ productId, quantity: 1 }] },
      });
      expect(placed.status).toBe(201);
      orders.push(placed.body.aggregateId as string);
    }
    await first.stop();

    const snapshots = await readSnapshotRecords(config);
    expect(snapshots.length).toBeGreaterThan(0);

    const { logger, lines } = capturingLogger();
    const second = await commandApi(config, logger);
    try {
      const readyLines = () =>
        lines.filter((l) => l.msg === 'partition owner ready' && l.aggregate === 'order');
      await eventually(
        async () => readyLines().length,
        (n) => n > 0,
        60_000,
      );
      const ready = lines.filter(
        (l) => l.msg === 'partition owner ready' && l.aggregate === 'order',
      );
      expect(ready).toHaveLength(1);
      expect(ready[0]).toMatchObject({ fromSnapshot: true });
      // 60 OrderPlaced (plus markers) in all; from the snapshot at most the last 20 or so.
      expect(Number(ready[0]?.replayed)).toBeLessThan(30);
      expect(ready[0]?.aggregates).toBe(60);

      // Idempotency survived: a repeat gets the first outcome, no second order.
      const repeat = await call(second.url, 'POST', '/orders', {
        token: customer,
        headers: { 'Idempotency-Key': 'snap-3' },
        body: { items: [{ productId, quantity: 1 }] },
      });
      expect(repeat.status).toBe(201);
      expect(repeat.body.aggregateId).toBe(orders[3]);
      // The SKU's holder survived: a second product with it is refused.
      const taken = await call(second.url, 'POST', '/products', {
        token: admin,
        body: {
          sku: 'SNAP-1',
          name: 'Again',
          category: 'c',
          price: { amount: 100, currency: 'EUR' },
          initialStock: 1,
        },
      });
      expect(taken.status).toBe(409);
    } finally {
      await second.stop();
    }
  });

  it("a product's reservations come back from its snapshot: released, repeated and refused as before", async () => {
    const config = await isolatedConfig('snapshot-holds', {
      SNAPSHOT_EVERY_EVENTS: '10',
      TOPIC_PARTITIONS: '1',
    });
    const first = await commandApi(config, silentLogger());
    const admin = await tokenFor(config, 'admin', 'alice');
    const saga = await tokenFor(config, 'service', 'saga');
    const created = await call(first.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'HOLD-1',
        name: 'Held',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 100,
      },
    });
    expect(created.status).toBe(201);
    const productId = created.body.aggregateId as string;
    // An order id named like an Object.prototype member must stay an ordinary key.
    const orderIds = ['__proto__', ...Array.from({ length: 24 }, (_, i) => `o-${i}`)];
    for (const [i, orderId] of orderIds.entries()) {
      const reserved = await call(first.url, 'POST', `/products/${productId}/reservations`, {
        token: saga,
        body: { orderId, quantity: 1 + (i % 3) },
      });
      expect(reserved.status).toBe(200);
    }
    await first.stop();

    const { logger, lines } = capturingLogger();
    const second = await commandApi(config, logger);
    try {
      const ready = await eventually(
        async () =>
          lines.find((l) => l.msg === 'partition owner ready' && l.aggregate === 'product'),
        (line) => line !== undefined,
        60_000,
      );
      expect(ready).toMatchObject({ fromSnapshot: true });
      expect(Number(ready?.replayed)).toBeLessThan(orderIds.length);
      const held = orderIds.reduce((sum, _id, i) => sum + 1 + (i % 3), 0);

      // Releasing a reservation made before the snapshot gives its units back.
      const released = await call(
        second.url,
        'POST',
        `/products/${productId}/reservations/__proto__/release`,
        { token: saga, body: {} },
      );
      expect(released.status).toBe(200);
      expect(released.body.events).toMatchObject([
        {
          type: 'ReservationReleased',
          data: { orderId: '__proto__', quantity: 1, available: 100 - held + 1 },
        },
      ]);
      // The same reservation again is a success with nothing new; another quantity a conflict.
      const again = await call(second.url, 'POST', `/products/${productId}/reservations`, {
        token: saga,
        body: { orderId: 'o-0', quantity: 2 },
      });
      expect(again.status).toBe(200);
      expect(again.body.events).toEqual([]);
      const other = await call(second.url, 'POST', `/products/${productId}/reservations`, {
        token: saga,
        body: { orderId: 'o-1', quantity: 1 },
      });
      expect(other.status).toBe(409);
      expect(other.body).toMatchObject({ code: 'reservation_exists' });
    } finally {
      await second.stop();
    }
  });

  it('ignores a snapshot of another state format, and a torn one', async () => {
    const config = await isolatedConfig('snapshot-format', { TOPIC_PARTITIONS: '1' });
    const topic = topicNames(config.topics).snapshots;
    const kafka = createKafkaClient(config);
    const format: SnapshotFormat = { kind: 'order', stateVersion: 1, schemaFingerprints: ['a'] };
    const snapshot: PartitionSnapshot = {
      eventsEnd: 42n,
      repliesEnd: 7n,
      aggregates: [['o-1', { state: { n: 1 }, version: 3 }]],
      holders: [['k', ['o-1']]],
      outcomes: [],
    };
    const producer = kafka.producer();
    try {
      await producer.send(await snapshotRecords(topic, 0, format, snapshot));
      const read = (f: SnapshotFormat) => readLatestSnapshot(kafka, topic, 0, f, silentLogger());
      expect(await read(format)).toEqual(snapshot);
      expect(await read({ ...format, stateVersion: 2 })).toBeUndefined();
      expect(await read({ ...format, schemaFingerprints: ['b'] })).toBeUndefined();

      // A big state spans chunks; one chunk of a newer snapshot missing: torn, not used.
      const big = {
        ...snapshot,
        aggregates: Array.from(
          { length: 40_000 },
          (_, i): [string, { state: { n: number }; version: number }] => [
            `o-${i}-${Math.random()}`,
            { state: { n: i }, version: 1 },
          ],
        ),
      };
      const records = await snapshotRecords(topic, 0, format, big);
      expect(records.length).toBeGreaterThan(1);
      await producer.send(records);
      expect((await read(format))?.aggregates).toHaveLength(40_000);
      await producer.send((await snapshotRecords(topic, 0, format, big)).slice(1));
      expect(await read(format)).toBeUndefined();
    } finally {
      await producer.close();
    }
  });
});

async function readSnapshotRecords(config: Config): Promise<unknown[]> {
  const found: unknown[] = [];
  await readToEnd(
    createKafkaClient(config),
    [{ topic: topicNames(config.topics).snapshots, partition: 0 }],
    ({ records }) => {
      found.push(...records);
    },
  );
  return found;
}
