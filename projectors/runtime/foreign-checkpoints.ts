import type { KafkaAdmin, KafkaClient } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import type { Pool } from '../../lib/postgres';
import type { ProjectionSpec } from '../projections';
import type { ProjectionTarget } from './projection';

/** A checkpoint that cannot belong to the log it is compared with. */
export interface CheckpointPastLogEnd {
  topic: string;
  partition: number;
  /** Where the target would resume (its checkpoint + 1). */
  resume: bigint;
  /** Where the partition's decided records end now. */
  logEnd: bigint;
}

/**
 * Partitions where `target` would resume past the end of the log: its checkpoints were written
 * while reading another log (a new broker over old databases, topics deleted and created again).
 * Within one log a checkpoint never passes the log's end.
 */
export async function checkpointsPastLogEnd(
  admin: KafkaAdmin,
  target: ProjectionTarget,
  topics: string[],
): Promise<CheckpointPastLogEnd[]> {
  const past: CheckpointPastLogEnd[] = [];
  for (const topic of topics) {
    const partitions = (await admin.offsets(topic)).map((e) => e.partition);
    const resume = await target.resumeOffsets(topic, partitions);
    // The log's end is read after the checkpoints: running consumers move their checkpoints
    // on meanwhile, and an end read before them is one they may have passed already.
    for (const { partition, high } of await admin.offsets(topic)) {
      const at = resume.get(partition) ?? 0n;
      if (at > high) past.push({ topic, partition, resume: at, logEnd: high });
    }
  }
  return past;
}

/** Members of `groupId` on this cluster: projector processes consuming this log right now. */
async function liveMembers(admin: KafkaAdmin, groupId: string): Promise<number> {
  const [group] = await admin.describeGroups([groupId]);
  return group?.members.length ?? 0;
}

/**
 * Before projections start: a projection whose current generation was built from another log
 * is dropped and built again from this one. Its rows describe events this log does not hold,
 * and applying this log's events over them fails or, worse, silently mixes two histories.
 * Under a lock on shard 0, so that of several projector processes starting at once only the
 * first rebuilds (the others then find checkpoints of this log).
 *
 * Never while the projection's consumer group has members: they are projector processes
 * reading this log (the first of them checked it), and dropping the generation under them
 * loses every row they do not apply again.
 */
export async function rebuildProjectionsOfAnotherLog(
  specs: ProjectionSpec[],
  kafka: KafkaClient,
  topics: string[],
  shard0: Pool,
  logger: Logger,
): Promise<void> {
  const admin = kafka.admin();
  const client = await shard0.connect();
  try {
    await client.query("select pg_advisory_lock(hashtext('orderstream.projections.log-check'))");
    for (const spec of specs) {
      const generation = await spec.currentGeneration();
      await spec.prepare(generation);
      const target = await spec.openTarget(generation);
      let past: CheckpointPastLogEnd[];
      try {
        past = await checkpointsPastLogEnd(admin, target, topics);
      } finally {
        await target.close();
      }
      if (past.length === 0) continue;
      const found = {
        projection: spec.name,
        generation,
        checkpointsPastLogEnd: past.map((p) => ({
          ...p,
          resume: String(p.resume),
          logEnd: String(p.logEnd),
        })),
      };
      const members = await liveMembers(admin, spec.groupId(generation));
      if (members > 0) {
        logger.info(
          { ...found, members },
          'projection checkpoints lie past the log end read just now, but its consumer group has live members reading this log: not rebuilding it',
        );
        continue;
      }
      logger.warn(
        found,
        'projection was built from another log (its checkpoints lie past the end of this one): rebuilding it from this log',
      );
      await spec.dropGeneration(generation);
      await spec.prepare(generation);
    }
  } finally {
    await client
      .query("select pg_advisory_unlock(hashtext('orderstream.projections.log-check'))")
      .catch(() => undefined);
    client.release();
    await admin.close();
  }
}
