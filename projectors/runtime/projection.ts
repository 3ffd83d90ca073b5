import type { ProjectedEvent } from '../../read-models/projected-event';

export type { ProjectedEvent };

/**
 * Where a projection writes (a set of Postgres shards, Redis, …). The runtime feeds it each
 * partition's events in log order; the target makes every write exactly once in effect:
 * it stores, atomically with the rows or keys an apply changes, the offset up to which the
 * partition is applied (its checkpoint), and ignores events at or below it.
 */
export interface ProjectionTarget {
  /** Unique per projection and generation, e.g. `read-model@g1`; names its checkpoints. */
  readonly name: string;
  /**
   * The offset to resume each partition of `topic` from: the lowest checkpoint + 1 over
   * everything the target writes to (0 when nothing was applied yet).
   */
  resumeOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>>;
  /**
   * Applies consecutive events of one partition and moves its checkpoint to `lastOffset`
   * (which may be past the last event: offsets of transaction markers or skipped records).
   * Throws ProjectionPoisonError when an event can never be applied (it is then set aside).
   */
  apply(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): Promise<void>;
  close(): Promise<void>;
}

/** An event the target can never apply (it violates the model); retrying cannot help. */
export class ProjectionPoisonError extends Error {
  override name = 'ProjectionPoisonError';
}
