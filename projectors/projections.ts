import { type Config, ConfigError, shardUrlsFor } from '../lib/config';
import type { Logger } from '../lib/logger';
import { Pool } from '../lib/postgres';
import type { Redis } from '../lib/redis';
import { ringOf } from '../lib/sharding-ring';
import { ANALYTICS_PROJECTION, dropAnalyticsDdl } from '../read-models/analytics/tables';
import {
  readGeneration,
  readModelName,
  readRingSize,
  switchGeneration,
} from '../read-models/postgres/generations';
import { dropGeneration, ensureGeneration } from '../read-models/postgres/schema';
import { currentViewsGeneration, switchViewsGeneration } from '../read-models/views/keys';
import { scanPrefix } from '../read-models/views/scan';
import { AnalyticsTarget } from './analytics/analytics-target';
import { ReadModelTarget } from './read-model/read-model-target';
import type { ProjectionTarget } from './runtime/projection';
import { ViewsTarget } from './views/views-target';

export const PROJECTION_NAMES = ['read-model', 'views', 'analytics'] as const;
export type ReplayableProjection = (typeof PROJECTION_NAMES)[number];
export type ProjectionName = ReplayableProjection | 'read-model-follower';

/** One projection of DESIGN §5: its generations, its storage, and its target. */
export interface ProjectionSpec {
  name: ProjectionName;
  currentGeneration: () => Promise<number>;
  /** Points readers at generation `g` (blue-green switch). */
  switchGeneration: (generation: number) => Promise<void>;
  /**
   * Creates generation `g`'s storage if missing (schemas; Redis needs none). A sharded read
   * model builds a new generation on a ring of `shards` (default: the size recorded for `g`,
   * else the configured number of shards) and records that size.
   */
  prepare: (generation: number, shards?: number) => Promise<void>;
  /** The target writing (or reading checkpoints of) generation `g`; close it when done. */
  openTarget: (generation: number) => Promise<ProjectionTarget>;
  /** Sharded read models: the number of shards generation `g`'s ring uses. */
  ringSize?: (generation: number) => Promise<number>;
  /** Removes generation `g`'s data and checkpoints. */
  dropGeneration: (generation: number) => Promise<void>;
  /** Generations whose data exists (e.g. left by an interrupted replay). */
  existingGenerations: () => Promise<number[]>;
  groupId: (generation: number) => string;
}

export interface ProjectionDeps {
  config: Config;
  logger: Logger;
  /** Shard 0 of the leader databases: where the read model's generation pointer lives. */
  shard0: Pool;
  redis: Redis;
}

export function openShard0(config: Config): Pool {
  return new Pool({ connectionString: config.postgres.shardUrls[0], max: 2 });
}

/** The follower databases of the first `count` shards (POSTGRES_FOLLOWER_SHARD_URLS). */
function followerUrlsFor(config: Config, count: number): string[] {
  const urls = config.postgres.followerShardUrls;
  if (count > urls.length) {
    throw new ConfigError(
      `the read model uses ${count} shards but POSTGRES_FOLLOWER_SHARD_URLS lists ${urls.length}: list one follower per shard`,
    );
  }
  return urls.slice(0, count);
}

/** The projections this deployment runs: the read model, its follower if configured, the views. */
export function projectionSpecs({
  config,
  logger,
  shard0,
  redis,
}: ProjectionDeps): ProjectionSpec[] {
  const configured = config.postgres.shardUrls.length;
  // A generation's ring is recorded on the leaders' shard 0 when it is created; generations
  // from before rings were recorded use the configured shards.
  const ringSize = async (g: number) => (await readRingSize(shard0, g)) ?? configured;
  const group = (name: string) => (g: number) => `${config.topics.prefix}.projection.${name}.g${g}`;
  const readModelOn = (
    name: 'read-model' | 'read-model-follower',
    databases: (shards: number) => string[],
  ): ProjectionSpec => ({
    name,
    // A follower is the same model built into other databases by its own consumer group; it
    // follows the leader's generation (and its ring).
    currentGeneration: () => readGeneration(shard0),
    switchGeneration: async (g) => {
      await switchGeneration(shard0, g);
    },
    prepare: async (g, shards) => {
      const size = shards ?? (await ringSize(g));
      await ensureGeneration(databases(size), g, size);
    },
    openTarget: async (g) => {
      const size = await ringSize(g);
      return new ReadModelTarget({
        name: readModelName(g),
        generation: g,
        shardUrls: databases(size),
        ring: ringOf(size),
        logger,
      });
    },
    ringSize,
    // Every database the generation may be on: its ring's, and any configured beyond it.
    dropGeneration: async (g) =>
      dropGeneration(databases(Math.max(await ringSize(g), configured)), g),
    existingGenerations: async () => {
      const shard = new Pool({ connectionString: databases(1)[0], max: 1 });
      try {
        const { rows } = await shard.query<{ nspname: string }>(
          "select nspname from pg_namespace where nspname ~ '^read_model_g[0-9]+$'",
        );
        return rows.map((r) => Number(r.nspname.slice('read_model_g'.length)));
      } finally {
        await shard.end();
      }
    },
    groupId: group(name),
  });
  const { keyPrefix } = config.redis;
  const specs: ProjectionSpec[] = [
    readModelOn('read-model', (n) => shardUrlsFor(config.postgres, n)),
    {
      name: 'views',
      currentGeneration: () => currentViewsGeneration(redis, keyPrefix),
      switchGeneration: (g) => switchViewsGeneration(redis, keyPrefix, g).then(() => undefined),
      prepare: async () => undefined,
      openTarget: async (g) =>
        new ViewsTarget({ url: config.redis.url, keyPrefix, generation: g, logger }),
      dropGeneration: async (g) => {
        const target = new ViewsTarget({ redis, keyPrefix, generation: g, logger });
        await target.dropGeneration(g, { force: true });
      },
      existingGenerations: async () => {
        const found = new Set<number>();
        await scanPrefix(redis, `${keyPrefix}views:g`, async (keys) => {
          for (const key of keys) {
            const match = /^views:g(\d+):/.exec(key.slice(keyPrefix.length));
            if (match?.[1]) found.add(Number(match[1]));
          }
        });
        return [...found];
      },
      groupId: group('views'),
    },
  ];
  // Analytics aggregates are not sharded: they live beside the generation pointers, on shard 0.
  const analyticsUrl = config.postgres.shardUrls[0] as string;
  specs.push({
    name: 'analytics',
    currentGeneration: () => readGeneration(shard0, ANALYTICS_PROJECTION),
    switchGeneration: async (g) => {
      await switchGeneration(shard0, g, ANALYTICS_PROJECTION);
    },
    prepare: async (g) => {
      const target = new AnalyticsTarget({ generation: g, url: analyticsUrl, logger });
      try {
        await target.ensureGeneration();
      } finally {
        await target.close();
      }
    },
    openTarget: async (g) => new AnalyticsTarget({ generation: g, url: analyticsUrl, logger }),
    dropGeneration: async (g) => {
      await shard0.query(dropAnalyticsDdl(g));
    },
    existingGenerations: async () => {
      const { rows } = await shard0.query<{ nspname: string }>(
        "select nspname from pg_namespace where nspname ~ '^analytics_g[0-9]+$'",
      );
      return rows.map((r) => Number(r.nspname.slice('analytics_g'.length)));
    },
    groupId: group('analytics'),
  });
  if (config.postgres.followerShardUrls.length > 0) {
    specs.push(readModelOn('read-model-follower', (n) => followerUrlsFor(config, n)));
  }
  return specs;
}
