import type { KafkaAdmin } from '../../lib/kafka';
import {
  type LagSource,
  lagAgainstEnds,
  type PartitionLag,
  totalLag,
} from '../../lib/metrics/consumer-lag';
import type { ProjectionSpec } from '../projections';
import type { ProjectionTarget } from './projection';

export { type PartitionLag, totalLag };

/**
 * For every partition of `topics`: how far `target` has applied it (its checkpoint, not the
 * consumer group's committed offset, is where a projection resumes), the log's end, the lag.
 */
export function projectionLag(
  admin: KafkaAdmin,
  target: ProjectionTarget,
  topics: string[],
): Promise<PartitionLag[]> {
  return lagAgainstEnds(admin, topics, (topic, partitions) =>
    target.resumeOffsets(topic, partitions),
  );
}

/**
 * A projection's lag, read from its current generation's checkpoints apart from the running
 * consumer: the lag still shows (and grows) while the projection is stopped or crashed.
 */
export function projectionLagSource(spec: ProjectionSpec, topics: string[]): LagSource {
  let group = spec.groupId(0);
  return {
    get group() {
      return group;
    },
    lag: async (admin) => {
      const generation = await spec.currentGeneration();
      group = spec.groupId(generation);
      const target = await spec.openTarget(generation);
      try {
        return await projectionLag(admin, target, topics);
      } finally {
        await target.close();
      }
    },
  };
}
