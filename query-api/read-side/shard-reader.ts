import type { Pool } from 'pg';
import type { LogPosition } from '../../lib/consistency-token';
import type { Logger } from '../../lib/logger';
import { type Queryable, readModelName, schemaFor } from '../../projectors/read-model/generations';
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

export interface ShardReadResult<T> {
  /** One result per shard asked, in the order asked. */
  results: T[];
  from: ReadFrom;
  generation: number;
}

export interface ShardReaderOptions {
  /** The leader shard pools, in ring order. */
  leaders: readonly Pool[];
  /** The follower shard pools, one per leader in the same order; empty when there are none. */
  followers: readonly Pool[];
  /** The generation readers use (`public.projection_generations` on shard 0, cached). */
  generation: CachedValue<number>;
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
 * Reads the sharded Postgres read model (projectors/README.md): picks the generation, waits
 * for a consistency token on the shards a query reads, and reads a follower instead of the
 * leader when the follower is known to be fresh enough. A follower that is down, lagging or
 * failing only ever sends the read to the leader.
 */
export class ShardReader {
  private readonly followerDownUntil: number[];

  constructor(private readonly options: ShardReaderOptions) {
    if (options.followers.length > 0 && options.followers.length !== options.leaders.length) {
      throw new RangeError(
        `one follower per shard is needed: ${options.followers.length} followers for ${options.leaders.length} shards`,
      );
    }
    this.followerDownUntil = options.followers.map(() => 0);
  }

  /**
   * Runs `query` on each of `shards` (indexes in ring order). With `positions` (a consistency
   * token, already narrowed to the read model's topics and never empty) the read happens once
   * those shards have applied them, or fails with ConsistencyTimeoutError.
   */
  async read<T>(
    shards: readonly number[],
    positions: readonly LogPosition[] | undefined,
    query: ShardQuery<T>,
  ): Promise<ShardReadResult<T>> {
    for (let attempt = 0; ; attempt++) {
      // A retry (the generation was dropped under the read) reads the pointer again.
      const current = await this.options.generation.get(attempt > 0);
      if (this.options.followers.length > 0) {
        const results = await this.readFollowers(shards, current, positions, query);
        if (results) return { results, from: 'follower', generation: current };
      }
      const generation = positions ? await this.waitForLeader(shards, positions) : current;
      try {
        const schema = schemaFor(generation);
        const results = await Promise.all(
          shards.map((shard) => query(this.leader(shard), schema, shard)),
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
   * Runs `query` on the leader of `shard` in the generation readers use: one query (the
   * generation pointer is cached), no follower, no consistency wait. For polling what an
   * earlier `read` found (the order stream); the leader is where changes show first.
   */
  async readLeader<T>(shard: number, query: ShardQuery<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const generation = await this.options.generation.get(attempt > 0);
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
    const pool = this.options.leaders[shard];
    if (!pool) throw new RangeError(`no shard ${shard}`);
    return pool;
  }

  private follower(shard: number): Pool {
    const pool = this.options.followers[shard];
    if (!pool) throw new RangeError(`no follower for shard ${shard}`);
    return pool;
  }

  /** Waits until every shard in `shards` has applied `positions`; the generation it checked. */
  private async waitForLeader(
    shards: readonly number[],
    positions: readonly LogPosition[],
  ): Promise<number> {
    const { consistencyWaitMs, pollIntervalMs } = this.options;
    const generation = await pollUntil(
      async () => {
        // Follow a switch during the wait: the new generation's checkpoints are what count.
        const g = await this.options.generation.get();
        const done = await Promise.all(
          shards.map(async (shard) =>
            satisfies(await checkpoints(this.leader(shard), g, this.options.topics), positions),
          ),
        );
        return done.every(Boolean) ? g : undefined;
      },
      consistencyWaitMs,
      pollIntervalMs,
    );
    if (generation === undefined) {
      throw new ConsistencyTimeoutError('read model', consistencyWaitMs);
    }
    return generation;
  }

  /** The results from the followers of `shards`, or undefined when the leader should answer. */
  private async readFollowers<T>(
    shards: readonly number[],
    generation: number,
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
