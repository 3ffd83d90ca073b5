import { Redis } from 'ioredis';
import { Pool } from 'pg';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { openShard0, type ProjectionName, projectionSpecs } from '../../projectors/projections';
import { startProjectors } from '../../projectors/service';
import { schemaFor } from '../../read-models/postgres/generations';
import { viewsKeys } from '../../read-models/views/keys';
import { envOf, isolatedConfig } from '../support/command-api';
import { projectionState } from '../support/projection-progress';
import { eventually, runCli, silentLogger } from '../support/test-env';
import {
  type AppendedTransaction,
  appendTransactions,
  applyThrough,
  idInPartition,
  type LogTransaction,
} from '../support/transactional-log';

/** How long a projection may take to reach the end of this small log before the test fails. */
const DEADLINE_MS = 45_000;

/**
 * A projection resumes from a checkpoint that sits right before a transaction marker or an
 * aborted transaction (where a command owner SIGKILLed mid-transaction leaves one): the records
 * a read_committed fetch skips there are invisible, not a gap to read again, so the projection
 * reaches the end of the log — live (the projectors service) and in a replay.
 */
describe('projections across transaction markers and aborted transactions', () => {
  let config: Config;
  let topic: string;
  /** Per partition of the product events: its product and where each transaction landed. */
  const partitions: { productId: string; txs: AppendedTransaction[] }[] = [];

  /** A product's life in its partition: committed, aborted, committed, then an aborted tail. */
  const life = (productId: string): LogTransaction[] => {
    const restocked = (version: number, available: number) => ({
      aggregateId: productId,
      version,
      event: { type: 'ProductRestocked', productId, quantity: 1, available },
    });
    return [
      {
        outcome: 'commit',
        events: [
          {
            aggregateId: productId,
            version: 1,
            event: {
              type: 'ProductCreated',
              productId,
              sku: productId,
              name: `Lamp ${productId}`,
              description: '',
              category: 'home',
              price: { amount: 1500, currency: 'EUR' },
              initialStock: 10,
            },
          },
          restocked(2, 15),
        ],
      },
      { outcome: 'abort', events: [restocked(3, 999)] },
      { outcome: 'commit', events: [restocked(3, 20)] },
      { outcome: 'abort', events: [restocked(4, 777)] },
    ];
  };

  /**
   * Where each partition's projection stopped: right before the first commit marker, right
   * before an aborted transaction, right before the aborted transaction at the log's end.
   */
  const stoppedAt = (p: number): bigint => {
    const { txs } = partitions[p] as (typeof partitions)[number];
    const [first, , second] = txs as [
      AppendedTransaction,
      AppendedTransaction,
      AppendedTransaction,
    ];
    return [first.records.at(-1) as bigint, first.marker, second.marker][p] as bigint;
  };

  beforeAll(async () => {
    config = await isolatedConfig('markers', { TOPIC_PARTITIONS: '3' }, { stores: true });
    topic = topicNames(config.topics).productEvents;
    for (let p = 0; p < 3; p += 1) {
      const productId = idInPartition('marker-product', p, config.topics.partitions);
      partitions.push({
        productId,
        txs: await appendTransactions(config, topic, p, life(productId)),
      });
    }
  });

  /**
   * Leaves generation `g` of `name` as a projection stopped at `stoppedAt(p)` in every partition:
   * its checkpoints there, its consumer group's committed offsets right after.
   */
  async function stopEveryPartitionAtAMarker(name: ProjectionName, generation: number) {
    const shard0 = openShard0(config);
    const redis = new Redis(config.redis.url);
    const spec = projectionSpecs({ config, logger: silentLogger(), shard0, redis }).find(
      (s) => s.name === name,
    );
    if (!spec) throw new Error(`no projection ${name}`);
    await spec.prepare(generation);
    const target = await spec.openTarget(generation);
    const admin = createKafkaClient(config).admin();
    try {
      for (let p = 0; p < partitions.length; p += 1) {
        await applyThrough(config, target, topic, p, stoppedAt(p));
      }
      // As the projection's consumer group left them: the next offset to read.
      await admin.setGroupOffsets(
        spec.groupId(generation),
        partitions.map((_, p) => ({ topic, partition: p, offset: stoppedAt(p) + 1n })),
      );
    } finally {
      await admin.close();
      await target.close();
      redis.disconnect();
      await shard0.end();
    }
  }

  /** Every product as the committed events leave it, and each checkpoint at its log's end. */
  async function expectTheWholeLogApplied(generation: number) {
    const logEnd = (p: number) => String(partitions[p]?.txs.at(-1)?.marker);
    const products = partitions.map((p) => p.productId);

    const rows: { product_id: string; available: number; version: number }[] = [];
    const checkpoints: string[] = [];
    for (const url of config.postgres.shardUrls) {
      const pool = new Pool({ connectionString: url, max: 1 });
      try {
        const found = await pool.query(
          `select product_id, available, version from ${schemaFor(generation)}.products`,
        );
        rows.push(...found.rows);
        const applied = await pool.query<{ offset: string }>(
          `select "offset" from public.projection_checkpoints
            where projection = $1 and topic = $2 order by partition`,
          [`read-model@g${generation}`, topic],
        );
        checkpoints.push(applied.rows.map((r) => r.offset).join(','));
      } finally {
        await pool.end();
      }
    }
    expect(rows.sort((a, b) => a.product_id.localeCompare(b.product_id))).toEqual(
      [...products].sort().map((product_id) => ({ product_id, available: 20, version: 3 })),
    );
    const ends = partitions.map((_, p) => logEnd(p)).join(',');
    expect(checkpoints).toEqual(config.postgres.shardUrls.map(() => ends));

    const redis = new Redis(config.redis.url);
    try {
      const keys = viewsKeys(config.redis.keyPrefix, generation);
      for (const productId of products) {
        expect(await redis.hmget(keys.productKey(productId), 'available', 'version')).toEqual([
          '20',
          '3',
        ]);
      }
      const fields = partitions.map((_, p) => `${topic}:${p}`);
      expect(await redis.hmget(keys.checkpointKey, ...fields)).toEqual(
        partitions.map((_, p) => logEnd(p)),
      );
    } finally {
      redis.disconnect();
    }
  }

  it('live: the projectors service resumes at a commit marker and at aborted transactions, and reaches the end', async () => {
    await stopEveryPartitionAtAMarker('read-model', 1);
    await stopEveryPartitionAtAMarker('views', 1);
    const projectors = await startProjectors(config, silentLogger());
    try {
      for (const name of ['read-model', 'views'] as const) {
        const state = await eventually(
          () => projectionState(config, name, 1),
          (s) => s.lag === 0n,
          DEADLINE_MS,
        );
        expect({ name, lag: state.lag }).toEqual({ name, lag: 0n });
      }
    } finally {
      await projectors.stop();
    }
    await expectTheWholeLogApplied(1);
  });

  it('replay: `orderstream replay` resumes at a commit marker and at aborted transactions, and switches', async () => {
    for (const name of ['read-model', 'views'] as const) {
      // An interrupted replay left generation 2 stopped at the markers; replay resumes it.
      await stopEveryPartitionAtAMarker(name, 2);
      const replay = await runCli(['replay', name], envOf(config), DEADLINE_MS);
      expect({ name, code: replay.code, stdout: replay.stdout }).toEqual({
        name,
        code: 0,
        stdout: expect.stringContaining('readers switched to generation 2'),
      });
    }
    await expectTheWholeLogApplied(2);
  });
});
