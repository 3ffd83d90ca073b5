import { Pool } from 'pg';
import type { Logger } from '../../lib/logger';
import { AnalyticsProjection } from '../../read-models/analytics/projection';
import { analyticsDdl, analyticsName } from '../../read-models/analytics/tables';
import { ModelViolation } from '../../read-models/postgres/statement';
import { isModelViolationError } from '../read-model/read-model-target';
import {
  type ProjectedEvent,
  ProjectionPoisonError,
  type ProjectionTarget,
} from '../runtime/projection';

export interface AnalyticsTargetOptions {
  generation: number;
  /** The database analytics live in: shard 0 of the leaders. */
  url: string;
  logger: Logger;
}

/**
 * The analytics read model (read-models/analytics/) in one database. Exactly once in effect:
 * each apply changes the aggregates and moves the partition's checkpoint in one transaction,
 * skipping events at or below it. Applies take one lock for the whole projection: the
 * aggregates are shared by every partition, and one apply at a time cannot deadlock.
 */
export class AnalyticsTarget implements ProjectionTarget {
  readonly name: string;
  private readonly pool: Pool;
  private readonly projection: AnalyticsProjection;
  private ensured: Promise<void> | undefined;

  constructor(private readonly options: AnalyticsTargetOptions) {
    this.name = analyticsName(options.generation);
    this.projection = new AnalyticsProjection(options.generation);
    this.pool = new Pool({ connectionString: options.url, max: 2 });
    this.pool.on('error', (err) =>
      options.logger.warn({ err, projection: this.name }, 'idle analytics connection failed'),
    );
  }

  /** Creates this generation's schema and tables if missing. */
  ensureGeneration(): Promise<void> {
    this.ensured ??= this.pool.query(analyticsDdl(this.options.generation)).then(
      () => undefined,
      (err: unknown) => {
        this.ensured = undefined;
        throw err;
      },
    );
    return this.ensured;
  }

  async resumeOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const { rows } = await this.pool.query<{ partition: number; offset: string }>(
      `select partition, "offset" from public.projection_checkpoints
        where projection = $1 and topic = $2 and partition = any($3::integer[])`,
      [this.name, topic, partitions],
    );
    const applied = new Map(rows.map((r) => [r.partition, BigInt(r.offset)]));
    return new Map(partitions.map((p) => [p, (applied.get(p) ?? -1n) + 1n]));
  }

  async apply(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): Promise<void> {
    await this.ensureGeneration();
    const client = await this.pool.connect();
    let done = false;
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [this.name]);
      const { rows } = await client.query<{ offset: string }>(
        `select "offset" from public.projection_checkpoints
          where projection = $1 and topic = $2 and partition = $3`,
        [this.name, topic, partition],
      );
      const checkpoint = rows[0] ? BigInt(rows[0].offset) : -1n;
      for (const event of events) {
        if (BigInt(event.offset) <= checkpoint) continue; // applied before
        try {
          await this.projection.apply(client, event);
        } catch (err) {
          if (err instanceof ModelViolation || isModelViolationError(err)) {
            throw new ProjectionPoisonError(
              `${this.name}: cannot apply ${event.type} at ${topic}/${partition}@${event.offset}: ${(err as Error).message}`,
            );
          }
          throw err;
        }
      }
      if (BigInt(lastOffset) > checkpoint) {
        await client.query(
          `insert into public.projection_checkpoints (projection, topic, partition, "offset")
           values ($1, $2, $3, $4)
           on conflict (projection, topic, partition) do update
             set "offset" = greatest(projection_checkpoints."offset", excluded."offset"),
                 updated_at = now()`,
          [this.name, topic, partition, lastOffset],
        );
      }
      await client.query('commit');
      done = true;
    } finally {
      if (!done) await client.query('rollback').catch(() => undefined);
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
