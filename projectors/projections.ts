import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { Pool } from '../lib/postgres';
import type { Redis } from '../lib/redis';
import { ShardingRing } from '../lib/sharding-ring';
import { readGeneration, readModelName, switchGeneration } from './read-model/generations';
import { ReadModelTarget } from './read-model/read-model-target';
import { dropGeneration, ensureGeneration } from './read-model/schema';
import type { ProjectionTarget } from './runtime/projection';
import { currentViewsGeneration, switchViewsGeneration } from './views/keys';
import { scanPrefix } from './views/scan';
import { ViewsTarget } from './views/views-target';

export const PROJECTION_NAMES = ['read-model', 'views'] as const;
export type ReplayableProjection = (typeof PROJECTION_NAMES)[number];
export type ProjectionName = ReplayableProjection | 'read-model-follower';

/** One projection of DESIGN §5: its generations, its storage, and its target. */
export interface ProjectionSpec {
  name: ProjectionName;
  currentGeneration: () => Promise<number>;
  /** Points readers at generation `g` (blue-green switch). */
  switchGeneration: (generation: number) => Promise<void>;
  /** Creates generation `g`'s storage if missing (schemas; Redis needs none). */
  prepare: (generation: number) => Promise<void>;
  /** The target writing (or reading checkpoints of) generation `g`; close it when done. */
  openTarget: (generation: number) => ProjectionTarget;
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

/** The projections this deployment runs: the read model, its follower if configured, the views. */
export function projectionSpecs({
  config,
  logger,
  shard0,
  redis,
}: ProjectionDeps): ProjectionSpec[] {
  const ring = new ShardingRing(config.postgres.shardUrls.length);
  const group = (name: string) => (g: number) => `${config.topics.prefix}.projection.${name}.g${g}`;
  const readModelOn = (
    name: 'read-model' | 'read-model-follower',
    shardUrls: string[],
  ): ProjectionSpec => ({
    name,
    // A follower is the same model built into other databases by its own consumer group; it
    // follows the leader's generation.
    currentGeneration: () => readGeneration(shard0),
    switchGeneration: async (g) => {
      await switchGeneration(shard0, g);
    },
    prepare: (g) => ensureGeneration(shardUrls, g),
    openTarget: (g) =>
      new ReadModelTarget({ name: readModelName(g), generation: g, shardUrls, ring, logger }),
    dropGeneration: (g) => dropGeneration(shardUrls, g),
    existingGenerations: async () => {
      const shard = new Pool({ connectionString: shardUrls[0], max: 1 });
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
    readModelOn('read-model', config.postgres.shardUrls),
    {
      name: 'views',
      currentGeneration: () => currentViewsGeneration(redis, keyPrefix),
      switchGeneration: (g) => switchViewsGeneration(redis, keyPrefix, g).then(() => undefined),
      prepare: async () => undefined,
      openTarget: (g) =>
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
  if (config.postgres.followerShardUrls.length > 0) {
    specs.push(readModelOn('read-model-follower', config.postgres.followerShardUrls));
  }
  return specs;
}
