import { Partitioners } from 'kafkajs';

// kafkajs' default partitioner is the Java client's murmur2: every producer (kafkajs or not)
// puts an aggregate's commands and events in the same partition.
const defaultPartitioner = Partitioners.DefaultPartitioner();

/** The partition the default partitioner gives `key` on a topic of `partitions` partitions. */
export function partitionOf(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}
