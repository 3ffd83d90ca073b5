import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../../lib/logger';
import { createShardPools } from '../../lib/postgres';
import type { ShardingRing } from '../../lib/sharding-ring';
import { assertGeneration, readModelName } from '../../read-models/postgres/generations';
import { ReadModelStatements } from '../../read-models/postgres/projection';
import { createGenerationSchema } from '../../read-models/postgres/schema';
import { ModelViolation, type PlannedEvent } from '../../read-models/postgres/statement';
import {
  type ProjectedEvent,
  ProjectionPoisonError,
  type ProjectionTarget,
} from '../runtime/projection';

export interface ReadModelTargetOptions {
  /** Checkpoint name; default `read-model@g<generation>`. */
  name?: string;
  generation: number;
  /** One database per shard, in ring order: the leaders, or the follower databases. */
  shardUrls: readonly string[];
  ring: ShardingRing;
  logger: Logger;
  /** Connections per shard (default 2: the shared server allows few connections; applies of several partitions queue). */
  poolSize?: number;
}

/** A poison event of the read model, with its place in the log. */
export class ReadModelPoisonError extends ProjectionPoisonError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly eventType: string;

  constructor(projection: string, event: ProjectedEvent, reason: string, cause?: unknown) {
    super(
      `${projection}: cannot apply ${event.type} at ${event.topic}/${event.partition}@${event.offset}: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
    this.topic = event.topic;
    this.partition = event.partition;
    this.offset = event.offset;
    this.eventType = event.type;
  }
}

/**
 * Postgres error classes an event causes deterministically: 22 data exception (value out of
 * range, bad timestamp, …) and 23 integrity constraint violation (duplicate key, …).
 */
export function isModelViolationError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}

const OFFSET = /^\d{1,19}$/;

function parseOffset(value: string, what: string): bigint {
  if (typeof value !== 'string' || !OFFSET.test(value)) {
    throw new Error(`${what} must be a Kafka offset (a decimal string), got ${String(value)}`);
  }
  return BigInt(value);
}

interface Routed {
  event: ProjectedEvent;
  offset: bigint;
  plan: PlannedEvent;
}

/** One shard's open transaction in an apply. */
interface ShardWork {
  client: PoolClient;
  /** Its checkpoint before this apply (-1 when none). */
  checkpoint: bigint;
}

/**
 * The Postgres read model (read-models/README.md) over sharded databases: products on the
 * shard of their product id, orders with their lines and history on the shard of their
 * customer. Exactly once in effect: every apply writes each shard's rows and its checkpoint
 * in one transaction, skipping events at or below that shard's checkpoint, and commits on
 * the shards only once every shard has succeeded (so a poison event leaves every shard as
 * it was; a crash between commits is repaired by the checkpoints on the next apply).
 */
export class ReadModelTarget implements ProjectionTarget {
  readonly name: string;
  readonly generation: number;
  private readonly ring: ShardingRing;
  private readonly logger: Logger;
  private readonly pools: Pool[];
  private readonly statements: ReadModelStatements;
  private ensured: Promise<void> | undefined;

  constructor(options: ReadModelTargetOptions) {
    assertGeneration(options.generation);
    if (options.shardUrls.length === 0) throw new RangeError('the read model needs a shard');
    if (options.ring.size !== options.shardUrls.length) {
      throw new RangeError(
        `the ring has ${options.ring.size} shards but ${options.shardUrls.length} shard URLs were given`,
      );
    }
    this.generation = options.generation;
    this.name = options.name ?? readModelName(options.generation);
    this.ring = options.ring;
    this.logger = options.logger;
    this.statements = new ReadModelStatements(options.generation);
    this.pools = createShardPools([...options.shardUrls], options.poolSize ?? 2);
    this.pools.forEach((pool, shard) => {
      pool.on('error', (err) =>
        this.logger.warn(
          { err, shard, projection: this.name },
          'idle read-model connection failed',
        ),
      );
    });
  }

  /** The Postgres schema of this generation (`read_model_g<N>`). */
  get schema(): string {
    return this.statements.schema;
  }

  /** Creates this generation's schema and tables on every shard where they are missing. */
  ensureGeneration(): Promise<void> {
    if (!this.ensured) {
      this.ensured = Promise.all(
        this.pools.map((pool) => createGenerationSchema(pool, this.generation)),
      ).then(() => undefined);
      this.ensured.catch(() => {
        this.ensured = undefined; // try again on the next call
      });
    }
    return this.ensured;
  }

  /** Each shard's checkpoint of `topic`/`partition` for this projection (null: none yet). */
  async checkpoints(topic: string, partition: number): Promise<(bigint | null)[]> {
    return Promise.all(
      this.pools.map(async (pool) => {
        const { rows } = await pool.query<{ offset: string }>(
          'select "offset" from public.projection_checkpoints where projection = $1 and topic = $2 and partition = $3',
          [this.name, topic, partition],
        );
        return rows[0] ? BigInt(rows[0].offset) : null;
      }),
    );
  }

  async resumeOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const perShard = await Promise.all(
      this.pools.map(async (pool) => {
        const { rows } = await pool.query<{ partition: number; offset: string }>(
          `select partition, "offset" from public.projection_checkpoints
            where projection = $1 and topic = $2 and partition = any($3::integer[])`,
          [this.name, topic, partitions],
        );
        return new Map(rows.map((r) => [r.partition, BigInt(r.offset)]));
      }),
    );
    const resume = new Map<number, bigint>();
    for (const partition of partitions) {
      let lowest: bigint | undefined;
      for (const checkpoints of perShard) {
        const offset = checkpoints.get(partition);
        if (offset === undefined) {
          lowest = -1n; // a shard with nothing applied: start from the beginning
          break;
        }
        if (lowest === undefined || offset < lowest) lowest = offset;
      }
      resume.set(partition, (lowest ?? -1n) + 1n);
    }
    return resume;
  }

  async apply(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): Promise<void> {
    const last = parseOffset(lastOffset, 'lastOffset');
    const byShard = this.route(topic, partition, events, last);
    await this.ensureGeneration();

    // Take every shard's connection and checkpoint lock in shard order: appliers that share
    // the pools (partitions applied in parallel) or the checkpoints (a zombie consumer and its
    // successor) then queue up instead of deadlocking across pools and databases.
    const work: ShardWork[] = [];
    let outcome: PromiseSettledResult<void>[];
    try {
      for (const pool of this.pools) {
        const shard: ShardWork = { client: await pool.connect(), checkpoint: -1n };
        work.push(shard);
        await shard.client.query('begin');
        shard.checkpoint = await this.lockCheckpoint(shard.client, topic, partition);
      }
      outcome = await Promise.allSettled(
        work.map((shard, i) =>
          this.applyToShard(shard, topic, partition, byShard[i] as Routed[], last),
        ),
      );
    } catch (err) {
      await this.finish(work, false);
      throw err;
    }
    const failures = outcome.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    if (failures.length > 0) {
      await this.finish(work, false);
      throw this.mostUrgent(failures);
    }
    await this.finish(work, true);
  }

  /** Plans every event and groups the plans by shard; a model violation is a poison event. */
  private route(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    last: bigint,
  ): Routed[][] {
    const byShard: Routed[][] = this.pools.map(() => []);
    let previous = -1n;
    for (const event of events) {
      const offset = parseOffset(event.offset, 'event offset');
      if (event.topic !== topic || event.partition !== partition) {
        throw new Error(
          `apply(${topic}, ${partition}) was given an event of ${event.topic}/${event.partition}`,
        );
      }
      if (offset <= previous || offset > last) {
        throw new Error(
          `apply(${topic}, ${partition}): event offsets must increase and not pass lastOffset ${last}; got ${offset} after ${previous}`,
        );
      }
      previous = offset;
      let plan: PlannedEvent | undefined;
      try {
        plan = this.statements.plan(event);
      } catch (err) {
        if (err instanceof ModelViolation)
          throw new ReadModelPoisonError(this.name, event, err.message);
        throw err;
      }
      if (plan === undefined) continue; // a type the read models ignore: only the checkpoint moves
      (byShard[this.ring.shardFor(plan.routeKey)] as Routed[]).push({ event, offset, plan });
    }
    return byShard;
  }

  private async lockCheckpoint(
    client: PoolClient,
    topic: string,
    partition: number,
  ): Promise<bigint> {
    // The advisory lock also covers the first apply, when there is no checkpoint row to lock.
    // (Two int4 keys: a lock space apart from the one-key locks of migrations and DDL.)
    await client.query('select pg_advisory_xact_lock(hashtext($1), $2)', [
      JSON.stringify([this.name, topic]),
      partition,
    ]);
    const { rows } = await client.query<{ offset: string }>(
      `select "offset" from public.projection_checkpoints
        where projection = $1 and topic = $2 and partition = $3
        for update`,
      [this.name, topic, partition],
    );
    return rows[0] ? BigInt(rows[0].offset) : -1n;
  }

  private async applyToShard(
    shard: ShardWork,
    topic: string,
    partition: number,
    routed: Routed[],
    last: bigint,
  ): Promise<void> {
    const { client, checkpoint } = shard;
    for (const { event, offset, plan } of routed) {
      if (offset <= checkpoint) continue; // applied before
      let changed: number;
      try {
        changed =
          (await client.query({ name: plan.name, text: plan.text, values: plan.values }))
            .rowCount ?? 0;
      } catch (err) {
        if (isModelViolationError(err)) {
          throw new ReadModelPoisonError(this.name, event, (err as Error).message, err);
        }
        throw err;
      }
      if (plan.mustAffect !== undefined && changed === 0) {
        throw new ReadModelPoisonError(this.name, event, plan.mustAffect);
      }
    }
    if (last > checkpoint) {
      await client.query(
        `insert into public.projection_checkpoints (projection, topic, partition, "offset")
         values ($1, $2, $3, $4)
         on conflict (projection, topic, partition) do update
           set "offset" = greatest(projection_checkpoints."offset", excluded."offset"),
               updated_at = now()`,
        [this.name, topic, partition, last.toString()],
      );
    }
  }

  /** A transient error wins (retrying is safe); else the poison event of lowest offset. */
  private mostUrgent(failures: unknown[]): unknown {
    const transient = failures.find((f) => !(f instanceof ProjectionPoisonError));
    if (transient !== undefined) return transient;
    return (failures as ReadModelPoisonError[]).reduce((a, b) =>
      BigInt(b.offset) < BigInt(a.offset) ? b : a,
    );
  }

  /** Commits (all succeeded) or rolls back every shard's transaction, and releases them. */
  private async finish(work: ShardWork[], commit: boolean): Promise<void> {
    const results = await Promise.allSettled(
      work.map(async ({ client }) => {
        try {
          await client.query(commit ? 'commit' : 'rollback');
          client.release();
        } catch (err) {
          client.release(err as Error); // a broken connection leaves the pool
          throw err;
        }
      }),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (commit && failed) {
      // Shards that committed are ahead; their checkpoints make the retry skip what they hold.
      throw (failed as PromiseRejectedResult).reason;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end()));
  }
}
