import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createHttpApp } from '../lib/http/app';
import type { Logger } from '../lib/logger';
import { createShardPools, databaseOf } from '../lib/postgres';
import { createRedis } from '../lib/redis';

export interface QueryApi {
  app: Express;
  /** Releases the shard pools and the Redis connection. */
  close: () => Promise<void>;
}

/** The query API's HTTP app. Ready when every Postgres shard and Redis answer. */
export function createQueryApi(config: Config, logger: Logger): QueryApi {
  const shards = createShardPools(config.postgres.shardUrls);
  for (const pool of shards)
    pool.on('error', (err) => logger.warn({ err }, 'postgres shard error'));
  const redis = createRedis(config.redis.url);
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));

  const app = createHttpApp({
    logger,
    bodyLimit: config.http.bodyLimit,
    healthTimeoutMs: config.healthTimeoutMs,
    checks: [
      ...shards.map((pool, i) => ({
        name: `postgres shard ${i} (${databaseOf(config.postgres.shardUrls[i] ?? '')})`,
        check: () => pool.query('select 1'),
      })),
      { name: 'redis', check: () => redis.ping() },
    ],
  });
  return {
    app,
    close: async () => {
      await Promise.all([
        redis.quit().catch(() => redis.disconnect()),
        ...shards.map((pool) => pool.end()),
      ]);
    },
  };
}
