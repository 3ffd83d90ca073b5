import { loadConfig } from '../lib/config';
import { createKafkaClient } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import { requireReachable, requireTopics } from '../lib/preflight';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import { openShard0, projectionSpecs } from '../projectors/projections';
import { openDeadLetters } from './dlq';
import { projectionLag, totalLag } from './projection-lag';

/** `orderstream status`: every projection's checkpoint, log end and lag per partition. */
export async function status(): Promise<void> {
  const config = loadConfig();
  await requireReachable(config, ['kafka', 'postgres', 'redis']);
  const names = topicNames(config.topics);
  await requireTopics(config, [names.productEvents, names.orderEvents, names.sagaDeadLetter]);
  const logger = createLogger('cli', 'silent');
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  const admin = createKafkaClient(config).admin();
  try {
    for (const spec of projectionSpecs({ config, logger, shard0, redis })) {
      const generation = await spec.currentGeneration();
      const target = spec.openTarget(generation);
      try {
        const rows = await projectionLag(admin, target, [names.productEvents, names.orderEvents]);
        process.stdout.write(
          `${spec.name} (generation ${generation}, group ${spec.groupId(generation)}): lag ${totalLag(rows)}\n`,
        );
        for (const r of rows) {
          const checkpoint = r.checkpoint < 0n ? '-' : String(r.checkpoint);
          process.stdout.write(
            `  ${r.topic.padEnd(40)} ${String(r.partition).padStart(3)}  checkpoint ${checkpoint.padStart(8)}  end ${String(r.end).padStart(8)}  lag ${String(r.lag).padStart(8)}\n`,
          );
        }
      } finally {
        await target.close();
      }
    }
    const deadLetters = await openDeadLetters(config);
    process.stdout.write(
      `saga dead letters: ${deadLetters.length}${deadLetters.length > 0 ? ' (see `orderstream dlq list`)' : ''}\n`,
    );
  } finally {
    await admin.close();
    redis.disconnect();
    await shard0.end();
  }
}
