import { Redis } from 'ioredis';
import type { Config } from '../../lib/config';
import { createKafkaClient, readToEnd } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { topicNames } from '../../lib/topics';
import { openShard0, projectionSpecs } from '../../projectors/projections';
import { ProjectionRunner } from '../../projectors/runtime/projection-runner';
import { checksum } from '../../read-models/postgres/checksum';
import { viewsChecksum } from '../../read-models/views/checksum';
import { envOf, isolatedConfig, readEvents } from '../support/command-api';
import { produceEventLoad } from '../support/event-load';
import { projectionState } from '../support/projection-progress';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, runCli } from '../support/test-env';

const CHECK_GENERATION = 77; // a from-scratch build to compare against, dropped at the end

/**
 * Exactly-once effect (DESIGN §5): a projector SIGKILLed in the middle of a 20k-event load and
 * restarted ends with read models equal to a from-scratch replay, and Redis views deleted come
 * back by replay alone.
 */
describe('projectors', () => {
  let config: Config;
  let events: number;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    config = await isolatedConfig('projectors', { PROJECTION_BATCH_SIZE: '200' }, { stores: true });
    events = await produceEventLoad(config, 20_000);
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  });

  const startProjectors = () => {
    const p = startServiceProcess('projectors/main.ts', 0, {
      ...envOf(config),
      PROJECTION_BATCH_SIZE: '200',
      // What this file checks; analytics has its own test (analytics.test.ts).
      PROJECTIONS: 'read-model,views',
    });
    processes.push(p);
    return p;
  };

  /** Builds generation `g` of every projection from offset 0 in this process and returns its checksums. */
  async function fromScratch(generation: number): Promise<{ readModel: string; views: string }> {
    const logger = createLogger('test', 'silent');
    const shard0 = openShard0(config);
    const redis = new Redis(config.redis.url);
    const names = topicNames(config.topics);
    try {
      const specs = projectionSpecs({ config, logger, shard0, redis });
      for (const spec of specs.filter((s) => s.name === 'read-model' || s.name === 'views')) {
        await spec.prepare(generation);
        const target = await spec.openTarget(generation);
        const runner = new ProjectionRunner({
          kafka: createKafkaClient(config),
          logger,
          groupId: `${spec.groupId(generation)}.check`,
          topics: [names.productEvents, names.orderEvents],
          target,
          batchSize: 500,
          deadLetterTopic: names.projectorDeadLetter,
        });
        await runner.start();
        await eventually(
          () => projectionState(config, spec.name, generation),
          (s) => s.lag === 0n,
          120_000,
        );
        await runner.stop();
        await target.close();
      }
      return {
        readModel: await checksum(config.postgres.shardUrls, generation),
        views: await viewsChecksum(redis, config.redis.keyPrefix, generation),
      };
    } finally {
      redis.disconnect();
      await shard0.end();
    }
  }

  it('SIGKILL mid-load, restart: every row and view equals a from-scratch replay, nothing applied twice', async () => {
    expect(events).toBeGreaterThanOrEqual(20_000);
    const first = startProjectors();
    // Kill it once it is well into the load, but not done.
    const midway = await eventually(
      () => projectionState(config, 'read-model', 1),
      (s) => s.applied > 3000n,
      120_000,
    );
    await first.kill('SIGKILL');
    expect(midway.lag).toBeGreaterThan(0n);

    startProjectors();
    for (const name of ['read-model', 'views'] as const) {
      const done = await eventually(
        () => projectionState(config, name, 1),
        (s) => s.lag === 0n,
        180_000,
      );
      expect(done.lag).toBe(0n);
    }
    const redis = new Redis(config.redis.url);
    const live = {
      readModel: await checksum(config.postgres.shardUrls, 1),
      views: await viewsChecksum(redis, config.redis.keyPrefix, 1),
    };
    redis.disconnect();
    const replayed = await fromScratch(CHECK_GENERATION);
    expect(live).toEqual(replayed);

    // Nothing was set aside: an event applied twice would have violated the model.
    const admin = createKafkaClient(config).admin();
    const dlq = await admin.offsets(topicNames(config.topics).projectorDeadLetter);
    await admin.close();
    expect(dlq.reduce((sum, p) => sum + Number(p.high), 0)).toBe(0);
  });

  it('Redis views deleted come back by replay alone', async () => {
    const redis = new Redis(config.redis.url);
    const before = await viewsChecksum(redis, config.redis.keyPrefix, 1);
    // Delete this run's views (its own key prefix only, never the shared Redis as a whole).
    const keys = await redis.keys(`${config.redis.keyPrefix}views:g1:*`);
    expect(keys.length).toBeGreaterThan(100);
    await redis.del(...keys);

    const replay = await runCli(['replay', 'views'], envOf(config));
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('readers switched to generation 2');
    expect(replay.stdout).toContain('dropped generation 1');
    expect(await viewsChecksum(redis, config.redis.keyPrefix, 2)).toBe(before);
    redis.disconnect();
  });

  it('orderstream status shows each projection caught up, and consume prints every event as a JSON line', async () => {
    const status = await runCli(['status'], envOf(config));
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^read-model \(generation 1, group .*\): lag 0$/m);
    expect(status.stdout).toMatch(/^views \(generation 2, group .*\): lag 0$/m);
    expect(status.stdout).toMatch(/saga dead letters: 0/);

    const consumed = await runCli(['consume', 'order.events', '--from-beginning'], envOf(config));
    expect(consumed.code).toBe(0);
    const lines = consumed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: { type: string }; aggregateId: string });
    const produced = (await readEvents(config, topicNames(config.topics).orderEvents)).length;
    expect(lines).toHaveLength(produced);
    expect(lines[0]?.event.type).toBe('OrderPlaced');
  });

  it('sets a poison event aside in the dead-letter topic and goes on', async () => {
    const names = topicNames(config.topics);
    const producer = createKafkaClient(config).producer();
    await producer.send([
      {
        topic: names.orderEvents,
        key: 'poison',
        partition: 0,
        value: Buffer.from('not avro'),
        headers: { 'event-type': 'OrderPlaced' },
      },
    ]);
    await producer.close();
    const after = await eventually(
      () => projectionState(config, 'read-model', 1),
      (s) => s.lag === 0n,
      60_000,
    );
    expect(after.lag).toBe(0n);
    const dead = await readRaw(names.projectorDeadLetter);
    expect(dead.map((m) => m.headers)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          'dlq-projection': 'read-model@g1',
          'dlq-topic': names.orderEvents,
          'dlq-partition': '0',
        }),
      ]),
    );
  });

  async function readRaw(topic: string): Promise<{ headers: Record<string, string> }[]> {
    const out: { headers: Record<string, string> }[] = [];
    await readToEnd(
      createKafkaClient(config),
      Array.from({ length: config.topics.partitions }, (_, partition) => ({ topic, partition })),
      ({ records }) => {
        for (const record of records) {
          out.push({
            headers: Object.fromEntries(
              Object.entries(record.headers).map(([k, v]) => [k, String(v)]),
            ),
          });
        }
      },
    );
    return out;
  }
});
