import { Partitioners } from 'kafkajs';

// kafkajs' default partitioner is the Java client's murmur2, which every Kafka client offers
// (librdkafka as `murmur2_random`): an aggregate's commands and events share a partition
// whichever client wrote them.
const defaultPartitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<
  number,
  {
    partitionId: number;
    leader: number;
    replicas: number[];
    isr: number[];
    partitionErrorCode: number;
  }[]
>();

/** The partition Kafka's default partitioner gives `key` on a topic of `partitions` partitions. */
export function partitionOf(key: string, partitions: number): number {
  let partitionMetadata = metadataByCount.get(partitions);
  if (!partitionMetadata) {
    partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    metadataByCount.set(partitions, partitionMetadata);
  }
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}
