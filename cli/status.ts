import type { Command } from 'commander';
import { loadConfig } from '../lib/config';
import { createKafka } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import { openShard0, projectionSpecs } from '../projectors/projections';
import { openDeadLetters } from './dlq';
import { projectionLag, totalLag } from './projection-lag';

/** `orderstream status`: every projection's checkpoint, log end and lag per partition. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'for every projection and partition: its checkpoint, the log end offset and the lag',
    )
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger('cli', 'silent');
      const shard0 = openShard0(config);
      const redis = createRedis(config.redis.url);
      const admin = createKafka(config).admin();
      await admin.connect();
      const names = topicNames(config.topics);
      try {
        for (const spec of projectionSpecs({ config, logger, shard0, redis })) {
          const generation = await spec.currentGeneration();
          const target = spec.openTarget(generation);
          try {
            const rows = await projectionLag(admin, target, [
              names.productEvents,
              names.orderEvents,
            ]);
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
        await admin.disconnect();
        redis.disconnect();
        await shard0.end();
      }
    });
}
