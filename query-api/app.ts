import express, { type Express, Router } from 'express';
import { Pool } from 'pg';
import type { Config } from '../lib/config';
import type { DependencyCheck } from '../lib/http/health';
import { refuseControlCharacters } from '../lib/http/input-guard';
import { metricsRouter } from '../lib/http/metrics-route';
import { notFound, problemErrorHandler } from '../lib/http/problem';
import { createRateLimits } from '../lib/http/rate-limit';
import { requestLog } from '../lib/http/request-log';
import type { Logger } from '../lib/logger';
import { databaseOf } from '../lib/postgres';
import { createRedis } from '../lib/redis';
import { ringOf } from '../lib/sharding-ring';
import { topicNames } from '../lib/topics';
import { ANALYTICS_PROJECTION } from '../read-models/analytics/tables';
import {
  READ_MODEL_PROJECTION,
  readGeneration,
  readGenerationRing,
} from '../read-models/postgres/generations';
import { currentViewsGeneration } from '../read-models/views/keys';
import { analyticsRoutes } from './http/analytics-routes';
import { catalogueRoutes } from './http/catalogue-routes';
import type { QueryContext } from './http/context';
import { queryHealthRouter } from './http/health';
import { openApiDocument } from './http/openapi';
import { orderRoutes } from './http/order-routes';
import { OrderStreams, orderStreamRoutes } from './http/order-stream';
import { readErrorHandler } from './http/read-request';
import { CachedValue } from './read-side/cached-value';
import { ShardPools } from './read-side/shard-pools';
import { ShardReader } from './read-side/shard-reader';
import { ViewsReader } from './read-side/views-reader';

export interface QueryApi {
  app: Express;
  /**
   * The open `GET /orders/{id}/stream` responses. Shutting down: stop the HTTP server from
   * accepting, then `orderStreams.endAll()` (else `server.close()` waits for every open
   * stream), then `close()`.
   */
  orderStreams: OrderStreams;
  /** Ends the order streams, then releases the shard pools (leaders and followers) and Redis. */
  close: () => Promise<void>;
}

export interface QueryApiOptions {
  /**
   * The read model's name in `public.projection_generations` on shard 0 (default `read-model`).
   * Checkpoints are always those of `readModelName(generation)`; tests point a name of their
   * own at a generation of their own.
   */
  readModelProjection?: string;
  /** Where the Redis views live (default REDIS_KEY_PREFIX, config.redis.keyPrefix). */
  viewsKeyPrefix?: string;
  /** How long a generation pointer is trusted before it is read again (default 500 ms, ≤ 1 s). */
  generationCacheMs?: number;
  /** How often a read with a consistency token looks at the checkpoints again (default 25 ms). */
  pollIntervalMs?: number;
  /** How long a follower that did not answer is left alone (default 2000 ms). */
  followerRetryMs?: number;
  /** How often an open order stream reads its order again (default 200 ms). */
  orderStreamPollMs?: number;
  /** How often an open order stream sends a `: keep-alive` comment (default 15 s). */
  orderStreamKeepAliveMs?: number;
}

/**
 * The query API's HTTP app (DESIGN §5): catalogue and orders from the Postgres shards (or
 * their followers) and the Redis views, with read-your-writes via X-Consistency-Token. Ready
 * when every Postgres shard and Redis answer.
 */
export function createQueryApi(
  config: Config,
  logger: Logger,
  options: QueryApiOptions = {},
): QueryApi {
  const generationCacheMs = Math.min(options.generationCacheMs ?? 500, 1000);
  const pollIntervalMs = options.pollIntervalMs ?? 25;
  const keyPrefix = options.viewsKeyPrefix ?? config.redis.keyPrefix;
  const projection = options.readModelProjection ?? READ_MODEL_PROJECTION;

  const shardPools = new ShardPools(config.postgres, config.queryApi.pgPoolSize, logger);
  const leaders = shardPools.configured;
  // Followers are optional: fail fast, so a dead one costs a request little before the leader answers.
  const followers = config.postgres.followerShardUrls.map(
    (connectionString) =>
      new Pool({
        connectionString,
        max: 3,
        min: 3, // kept through quiet spells, as the leaders' (ShardPools)
        connectionTimeoutMillis: Math.min(config.healthTimeoutMs, 1000),
        query_timeout: 5000,
      }),
  );
  for (const pool of followers)
    pool.on('error', (err) => logger.debug({ err }, 'postgres follower error'));
  // Concurrent reads share writes: each HMGET on its own was a tenth of the query API's CPU.
  const redis = createRedis(config.redis.url, { autoPipelining: true });
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));

  const topics = topicNames(config.topics);
  const consumed = [topics.productEvents, topics.orderEvents];
  const shard0 = leaders[0];
  if (!shard0) throw new RangeError('the query API needs at least one Postgres shard');

  const ctx: QueryContext = {
    config,
    topics: consumed,
    shards: new ShardReader({
      leader: (shard) => shardPools.get(shard),
      followers,
      // Each generation is routed by its own ring (recorded with it; else the configured shards).
      layout: new CachedValue(async () => {
        const { generation, shards } = await readGenerationRing(shard0, projection);
        return { generation, ring: ringOf(shards ?? leaders.length) };
      }, generationCacheMs),
      topics: consumed,
      consistencyWaitMs: config.readSide.consistencyWaitMs,
      followerMaxLag: config.readSide.followerMaxLag,
      pollIntervalMs,
      followerRetryMs: options.followerRetryMs ?? 2000,
      logger,
    }),
    views: new ViewsReader({
      redis,
      keyPrefix,
      generation: new CachedValue(
        () => currentViewsGeneration(redis, keyPrefix),
        generationCacheMs,
      ),
      consistencyWaitMs: config.readSide.consistencyWaitMs,
      pollIntervalMs,
    }),
  };

  const required: DependencyCheck[] = [
    ...leaders.map((pool, i) => ({
      name: `postgres shard ${i} (${databaseOf(config.postgres.shardUrls[i] ?? '')})`,
      check: () => pool.query('select 1'),
    })),
    { name: 'redis', check: () => redis.ping() },
  ];
  const optional: DependencyCheck[] = followers.map((pool, i) => ({
    name: `postgres follower ${i} (${databaseOf(config.postgres.followerShardUrls[i] ?? '')})`,
    check: () => pool.query('select 1'),
  }));

  const orderStreams = new OrderStreams({
    pollMs: options.orderStreamPollMs ?? 200,
    keepAliveMs: options.orderStreamKeepAliveMs ?? 15_000,
    logger,
  });

  const rateLimits = createRateLimits(config, logger, 'query-api');
  const routes = Router();
  routes.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  routes.use(catalogueRoutes(ctx));
  routes.use(orderRoutes(ctx));
  routes.use(orderStreamRoutes(ctx, orderStreams));
  routes.use(
    analyticsRoutes(ctx, {
      db: shard0,
      generation: new CachedValue(
        () => readGeneration(shard0, ANALYTICS_PROJECTION),
        generationCacheMs,
      ),
    }),
  );

  // As lib/http/app.ts, with a health check that tells required from optional dependencies.
  const app = express();
  app.disable('x-powered-by');
  // No ETag: it hashed every answer (sha1 of the body) for conditional GETs no client makes.
  app.set('etag', false);
  app.use(requestLog(logger));
  // Reads take no body; their headers and query strings pass the shared gate.
  app.use(refuseControlCharacters);
  app.use(queryHealthRouter(required, optional, config.healthTimeoutMs));
  app.use(metricsRouter());
  if (rateLimits) app.use(rateLimits.handler);
  app.use(routes);
  app.use(notFound);
  app.use(readErrorHandler(logger));
  app.use(problemErrorHandler((err) => logger.error({ err }, 'request failed')));

  return {
    app,
    orderStreams,
    close: async () => {
      orderStreams.endAll();
      await Promise.all([
        redis.quit().catch(() => redis.disconnect()),
        rateLimits?.close(),
        shardPools.end(),
        ...followers.map((pool) => pool.end()),
      ]);
    },
  };
}
