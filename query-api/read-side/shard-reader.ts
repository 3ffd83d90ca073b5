import type { Pool } from 'pg';
import type { LogPosition } from '../../lib/consistency-token';
import type { Logger } from '../../lib/logger';
import type { ShardingRing } from '../../lib/sharding-ring';
import { type Queryable, readModelName, schemaFor } from '../../read-models/postgres/generations';
import type { CachedValue } from './cached-value';
import {
  type Checkpoints,
  ConsistencyTimeoutError,
  parseOffset,
  partitionKey,
  pollUntil,
  satisfies,
} from './consistency';

/** Which copy of the read model answered. */
export type ReadFrom = 'leader' | 'follower';

/** One shard's part of a read: runs against `db`, the shard's database, in generation `schema`. */
export type ShardQuery<T> = (db: Queryable, schema: string, shard: number) => Promise<T>;

/** The generation readers use and the ring its rows are placed by. */
export interface ReadLayout {
  generation: number;
  ring: ShardingRing;
}

/**
 * Which shards a read asks, by the ring of the generation it reads: the shards a generation
 * uses are its own (`orderstream shards add` builds the next one on a larger ring).
 */
export type ShardRoute = (ring: ShardingRing) => readonly number[];

/** Every shard of the ring, for scatter reads. */
export const everyShard: ShardRoute = (ring) => ring.shards.map((_, i) => i);

/** The shard holding `key` (a product id, a customer id). */
export const shardOf =
  (key: string): ShardRoute =>
  (ring) => [ring.shardFor(key)];

export interface ShardReadResult<T> {
  /** One result per shard asked, in the order the route gave them. */
  results: T[];
  from: ReadFrom;
  generation: number;
}

export interface ShardReaderOptions {
  /** The leader pool of shard `i` (ring order); it may open shards beyond the configured ones. */
  leader: (shard: number) => Pool;
  /** The follower shard pools, one per configured shard in the same order; empty when none. */
  followers: readonly Pool[];
  /** The generation readers use and its ring (on shard 0, cached). */
  layout: CachedValue<ReadLayout>;
  /** The topics the read model consumes (its checkpoints name them). */
  topics: readonly string[];
  consistencyWaitMs: number;
  followerMaxLag: number;
  pollIntervalMs: number;
  /** After a follower fails to answer, it is not asked again for this long. */
  followerRetryMs: number;
  logger: Logger;
}

/** Postgres errors that mean "that schema or table is not there" (a dropped generation). */
const MISSING_RELATION = new Set(['42P01', '3F000']);

function isMissingRelation(err: unknown): boolean {
  return MISSING_RELATION.has((err as { code?: string } | null)?.code ?? '');
}

/**
 * Reads the sharded Postgres read model (read-models/README.md): picks the generation, waits
 * for a consistency token on the shards a query reads, and reads a follower instead of the
 * leader when the follower is known to be fresh enough. A follower that is down, lagging or
 * failing only ever sends the read to the leader.
 */
export class ShardReader {
  private readonly followerDownUntil: number[];

  constructor(private readonly options: ShardReaderOptions) {
    this.followerDownUntil = options.followers.map(() => 0);
  }

  /**
   * Runs `query` on each shard `route` picks in the ring of the generation read. With
   * `positions` (a consistency token, already narrowed to the read model's topics and never
   * empty) the read happens once those shards have applied them, or fails with
   * ConsistencyTimeoutError.
   */
  async read<T>(
    route: ShardRoute,
    positions: readonly LogPosition[] | undefined,
    query: ShardQuery<T>,
  ): Promise<ShardReadResult<T>> {
    for (let attempt = 0; ; attempt++) {
      // A retry (the generation was dropped under the read) reads the pointer again.
      const current = await this.options.layout.get(attempt > 0);
      if (this.options.followers.length > 0) {
        const results = await this.readFollowers(route(current.ring), current, positions, query);
        if (results) return { results, from: 'follower', generation: current.generation };
      }
      const { generation, ring } = positions ? await this.waitForLeader(route, positions) : current;
      try {
        const schema = schemaFor(generation);
        const results = await Promise.all(
          route(ring).map((shard) => query(this.leader(shard), schema, shard)),
        );
        return { results, from: 'leader', generation };
      } catch (err) {
        // A blue-green switch dropped the generation this read picked: once more on the new one.
        if (attempt === 0 && isMissingRelation(err)) continue;
        throw err;
      }
    }
  }

  /**
   * Runs `query` on the leader of the shard holding `key` in the generation readers use: one
   * query (the generation pointer is cached), no follower, no consistency wait. For polling
   * what an earlier `read` found (the order stream); the leader is where changes show first.
   */
  async readLeader<T>(key: string, query: ShardQuery<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { generation, ring } = await this.options.layout.get(attempt > 0);
      const shard = ring.shardFor(key);
      try {
        return await query(this.leader(shard), schemaFor(generation), shard);
      } catch (err) {
        // As in read: a switch dropped the generation under the poll; once more on the new one.
        if (attempt === 0 && isMissingRelation(err)) continue;
        throw err;
      }
    }
  }

  private leader(shard: number): Pool {
    return this.options.leader(shard);
  }

  private follower(shard: number): Pool {
    const pool = this.options.followers[shard];
    if (!pool) throw new RangeError(`no follower for shard ${shard}`);
    return pool;
  }

  /**
   * Waits until every shard `route` picks has applied `positions`; the generation (and ring)
   * it checked.
   */
  private async waitForLeader(
    route: ShardRoute,
    positions: readonly LogPosition[],
  ): Promise<ReadLayout> {
    const { consistencyWaitMs, pollIntervalMs } = this.options;
    const layout = await pollUntil(
      async () => {
        // Follow a switch during the wait: the new generation's checkpoints are what count.
        const current = await this.options.layout.get();
        const done = await Promise.all(
          route(current.ring).map(async (shard) =>
            satisfies(
              await checkpoints(this.leader(shard), current.generation, this.options.topics),
              positions,
            ),
          ),
        );
        return done.every(Boolean) ? current : undefined;
      },
      consistencyWaitMs,
      pollIntervalMs,
    );
    if (layout === undefined) {
      throw new ConsistencyTimeoutError('read model', consistencyWaitMs);
    }
    return layout;
  }

  /** The results from the followers of `shards`, or undefined when the leader should answer. */
  private async readFollowers<T>(
    shards: readonly number[],
    { generation }: ReadLayout,
    positions: readonly LogPosition[] | undefined,
    query: ShardQuery<T>,
  ): Promise<T[] | undefined> {
    const now = Date.now();
    if (shards.some((shard) => (this.followerDownUntil[shard] ?? 0) > now)) return undefined;
    const usable = await Promise.all(
      shards.map((shard) => this.followerUsable(shard, generation, positions)),
    );
    if (!usable.every(Boolean)) return undefined;
    try {
      const schema = schemaFor(generation);
      return await Promise.all(shards.map((shard) => query(this.follower(shard), schema, shard)));
    } catch (err) {
      this.options.logger.warn({ err }, 'a follower read failed; reading the leader');
      return undefined;
    }
  }

  /**
   * Can the follower of `shard` answer? With a token: its checkpoints already pass it.
   * Without: on every partition either copy has a checkpoint for, it is at most
   * `followerMaxLag` offsets behind the leader (no checkpoint counts as nothing applied).
   */
  private async followerUsable(
    shard: number,
    generation: number,
    positions: readonly LogPosition[] | undefined,
  ): Promise<boolean> {
    let followerCheckpoints: Checkpoints;
    try {
      followerCheckpoints = await checkpoints(
        this.follower(shard),
        generation,
        this.options.topics,
      );
    } catch (err) {
      this.followerDownUntil[shard] = Date.now() + this.options.followerRetryMs;
      this.options.logger.warn(
        { err, shard },
        'follower not answering; reading the leader for a while',
      );
      return false;
    }
    if (positions) return satisfies(followerCheckpoints, positions);
    let leaderCheckpoints: Checkpoints;
    try {
      leaderCheckpoints = await checkpoints(this.leader(shard), generation, this.options.topics);
    } catch {
      // The leader will be asked (and its failure reported) by the read itself.
      return false;
    }
    const maxLag = BigInt(this.options.followerMaxLag);
    for (const [key, leaderOffset] of leaderCheckpoints) {
      const followerOffset = followerCheckpoints.get(key) ?? -1n;
      if (leaderOffset - followerOffset > maxLag) return false;
    }
    return true;
  }
}

/** The checkpoints of generation `generation` of the read model in one shard database. */
export async function checkpoints(
  db: Queryable,
  generation: number,
  topics: readonly string[],
): Promise<Checkpoints> {
  const { rows } = await db.query<{ topic: string; partition: number; offset: string }>(
    `select topic, partition, "offset"::text as "offset"
       from public.projection_checkpoints
      where projection = $1 and topic = any($2::text[])`,
    [readModelName(generation), [...topics]],
  );
  const result = new Map<string, bigint>();
  for (const row of rows) {
    const offset = parseOffset(row.offset);
    if (offset !== undefined) result.set(partitionKey(row.topic, row.partition), offset);
  }
  return result;
}
