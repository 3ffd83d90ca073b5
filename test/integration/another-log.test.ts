import { Pool } from 'pg';
import { ensureTopics } from '../../infra/kafka-topics';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { createRedis } from '../../lib/redis';
import { topicNames } from '../../lib/topics';
import { openShard0, projectionSpecs } from '../../projectors/projections';
import { checkpointsPastLogEnd } from '../../projectors/runtime/foreign-checkpoints';
import type { ProjectionTarget } from '../../projectors/runtime/projection';
import { startProjectors } from '../../projectors/service';
import { readGeneration, readModelName, schemaFor } from '../../read-models/postgres/generations';
import { isolatedConfig, readEvents } from '../support/command-api';
import { produceEventLoad } from '../support/event-load';
import { eventually, silentLogger } from '../support/test-env';

/** Every product row of the read model's current generation: id → version. */
async function productVersions(config: Config): Promise<Map<string, number>> {
  const shard0 = openShard0(config);
  const generation = await readGeneration(shard0).finally(() => shard0.end());
  const versions = new Map<string, number>();
  for (const url of config.postgres.shardUrls) {
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      const { rows } = await pool.query<{ product_id: string; version: number }>(
        `select product_id, version from ${schemaFor(generation)}.products`,
      );
      for (const r of rows) versions.set(r.product_id, r.version);
    } finally {
      await pool.end();
    }
  }
  return versions;
}

/** What each product's last event in the log says its version is. */
async function versionsInLog(config: Config): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (const e of await readEvents(config, topicNames(config.topics).productEvents))
    versions.set(e.aggregateId, e.aggregateVersion);
  return versions;
}

/**
 * A new broker (a fresh clone's `npm start`, topics made again) over read-model databases and
 * Redis views that an earlier log filled: the projectors notice that the checkpoints lie past
 * the end of this log and rebuild every projection from it, instead of skipping this log's
 * events as "already applied" or dead-lettering them against the other log's rows.
 */
/** Deletes the event and dead-letter topics and makes them again, empty: another log, same names. */
async function newLogUnderTheSameNames(config: Config): Promise<void> {
  const names = topicNames(config.topics);
  const topics = [names.productEvents, names.orderEvents, names.projectorDeadLetter];
  const admin = createKafkaClient(config).admin();
  try {
    await admin.deleteTopics(topics);
    // Deletion completes in the background: until then the names cannot be created again.
    await eventually(
      async () => (await admin.listTopics()).filter((t) => topics.includes(t)),
      (left) => left.length === 0,
      30_000,
    );
  } finally {
    await admin.close();
  }
  await eventually(
    () =>
      ensureTopics(config).then(
        () => true,
        () => false,
      ),
    (made) => made,
    30_000,
  );
}

/**
 * A new broker (a fresh clone's `npm start`) or topics made again, over read-model databases
 * and Redis views that an earlier log filled: the projectors notice that the checkpoints lie
 * past the end of this log and rebuild every projection from it, instead of skipping this
 * log's events as "already applied" or dead-lettering them against the other log's rows.
 */
describe('projections built from another log', () => {
  let config: Config;

  beforeAll(async () => {
    config = await isolatedConfig('another-log', {}, { stores: true });
  });

  it('are rebuilt from this log when the projectors start', async () => {
    await produceEventLoad(config, 1500);
    const earlierVersions = await versionsInLog(config);
    const first = await startProjectors(config, silentLogger());
    try {
      await eventually(
        () => productVersions(config),
        (v) => [...earlierVersions].every(([id, version]) => v.get(id) === version),
        90_000,
      );
    } finally {
      await first.stop();
    }

    // The same products (their ids come from the commands), but a shorter history.
    await newLogUnderTheSameNames(config);
    await produceEventLoad(config, 150);
    const expected = await versionsInLog(config);
    expect([...expected].some(([id, n]) => earlierVersions.get(id) !== n)).toBe(true);
    const second = await startProjectors(config, silentLogger());
    try {
      const projected = await eventually(
        () => productVersions(config),
        (v) => v.size === expected.size && [...expected].every(([id, n]) => v.get(id) === n),
        90_000,
      );
      expect(Object.fromEntries(projected)).toEqual(Object.fromEntries(expected));
      const shard0 = openShard0(config);
      const redis = createRedis(config.redis.url);
      const kafka = createKafkaClient(config);
      const names = topicNames(config.topics);
      const admin = kafka.admin();
      try {
        // Nothing of this log was set aside as poison.
        const dlq = await admin.offsets(names.projectorDeadLetter);
        expect(dlq.reduce((sum, p) => sum + p.high, 0n)).toBe(0n);
        // Every projection (read model, views, analytics) now holds checkpoints of this log.
        for (const spec of projectionSpecs({ config, logger: silentLogger(), shard0, redis })) {
          const target = await spec.openTarget(await spec.currentGeneration());
          try {
            expect({
              projection: spec.name,
              past: await checkpointsPastLogEnd(admin, target, [
                names.productEvents,
                names.orderEvents,
              ]),
            }).toEqual({ projection: spec.name, past: [] });
          } finally {
            await target.close();
          }
        }
      } finally {
        await admin.close();
        redis.disconnect();
        await shard0.end();
      }
    } finally {
      await second.stop();
    }
  });

  it('are left alone while projector processes consume this log, whatever their checkpoints say', async () => {
    // CI: a projector started beside running ones read the log's end before their checkpoints
    // (which they had moved on since), took these for another log's and dropped the read model
    // under them; they never applied its first events again (a product read 404 for good).
    const live = await isolatedConfig('live-log', {}, { stores: true });
    await produceEventLoad(live, 300);
    const inLog = await versionsInLog(live);
    const running = await startProjectors(live, silentLogger());
    let second: Awaited<ReturnType<typeof startProjectors>> | undefined;
    try {
      await eventually(
        () => productVersions(live),
        (v) => [...inLog].every(([id, version]) => v.get(id) === version),
        90_000,
      );
      // The running projection's checkpoints of one partition, one past that partition's end.
      const productEvents = topicNames(live.topics).productEvents;
      const admin = createKafkaClient(live).admin();
      const [end] = await admin.offsets(productEvents).finally(() => admin.close());
      if (!end) throw new Error(`no partitions in ${productEvents}`);
      const shard0 = openShard0(live);
      const generation = await readGeneration(shard0).finally(() => shard0.end());
      for (const url of live.postgres.shardUrls) {
        const pool = new Pool({ connectionString: url, max: 1 });
        const { rowCount } = await pool
          .query(
            `update public.projection_checkpoints set "offset" = $4
              where projection = $1 and topic = $2 and partition = $3`,
            [readModelName(generation), productEvents, end.partition, String(end.high)],
          )
          .finally(() => pool.end());
        expect(rowCount).toBe(1);
      }

      second = await startProjectors(live, silentLogger());
      expect(Object.fromEntries(await productVersions(live))).toEqual(Object.fromEntries(inLog));
    } finally {
      await second?.stop();
      await running.stop();
    }
  });

  it('are compared with a log end read after their checkpoints, which running consumers move on', async () => {
    const racing = await isolatedConfig('log-end-race');
    const topic = topicNames(racing.topics).productEvents;
    const kafka = createKafkaClient(racing);
    const admin = kafka.admin();
    const producer = kafka.producer();
    // A caught-up projection whose consumer applies one more event while it is being asked.
    const caughtUp: ProjectionTarget = {
      name: 'caught-up',
      resumeOffsets: async (t, partitions) => {
        await producer.send([{ topic: t, partition: 0, key: 'k', value: Buffer.from('e') }]);
        const ends = await admin.offsets(t);
        return new Map(
          ends.filter((e) => partitions.includes(e.partition)).map((e) => [e.partition, e.high]),
        );
      },
      apply: async () => undefined,
      close: async () => undefined,
    };
    try {
      expect(await checkpointsPastLogEnd(admin, caughtUp, [topic])).toEqual([]);
    } finally {
      await producer.close();
      await admin.close();
    }
  });
});
