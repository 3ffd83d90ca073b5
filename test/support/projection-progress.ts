import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { createLogger } from '../../lib/logger';
import { createRedis } from '../../lib/redis';
import { topicNames } from '../../lib/topics';
import { openShard0, type ProjectionName, projectionSpecs } from '../../projectors/projections';
import { projectionLag, totalLag } from '../../projectors/runtime/projection-lag';

/** Lag and applied offsets of one projection's generation, read from its store. */
export async function projectionState(config: Config, name: ProjectionName, generation: number) {
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  const admin = createKafkaClient(config).admin();
  const spec = projectionSpecs({
    config,
    logger: createLogger('test', 'silent'),
    shard0,
    redis,
  }).find((s) => s.name === name);
  if (!spec) throw new Error(`no projection ${name}`);
  const target = await spec.openTarget(generation);
  try {
    const names = topicNames(config.topics);
    const rows = await projectionLag(admin, target, [names.productEvents, names.orderEvents]);
    return { lag: totalLag(rows), applied: rows.reduce((sum, r) => sum + r.position, 0n) };
  } finally {
    await target.close();
    await admin.close();
    redis.disconnect();
    await shard0.end();
  }
}
