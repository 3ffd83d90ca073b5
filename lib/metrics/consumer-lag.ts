import type { KafkaAdmin, KafkaClient } from '../kafka';
import { Gauge, registers } from './registry';

/** How far a consumer group is behind on one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset the group will read (its committed position or checkpoint + 1). */
  position: bigint;
  /** The log's end as a committed-only reader sees it (the last stable offset). */
  end: bigint;
  lag: bigint;
}

/** Records behind, summed over the partitions. */
export const totalLag = (rows: readonly PartitionLag[]): bigint =>
  rows.reduce((sum, r) => sum + r.lag, 0n);

/** A consumer group whose lag this process reports. */
export interface LagSource {
  group: string;
  lag(admin: KafkaAdmin): Promise<PartitionLag[]>;
}

/** Lag of each partition of `topics` given the group's next offsets (absent: from the log start). */
export async function lagAgainstEnds(
  admin: KafkaAdmin,
  topics: string[],
  nextOffsets: (topic: string, partitions: number[]) => Promise<Map<number, bigint>>,
): Promise<PartitionLag[]> {
  const rows: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = await admin.offsets(topic);
    const next = await nextOffsets(
      topic,
      ends.map((e) => e.partition),
    );
    for (const { partition, low, high } of ends) {
      const position = next.get(partition) ?? low;
      rows.push({
        topic,
        partition,
        position,
        end: high,
        lag: high > position ? high - position : 0n,
      });
    }
  }
  return rows;
}

/** A group that commits its offsets to Kafka (the command owners, the saga, the retry workers). */
export function kafkaGroupLag(group: string, topics: string[]): LagSource {
  return {
    group,
    lag: async (admin) => {
      const committed = await admin.groupOffsets(group, topics);
      return lagAgainstEnds(admin, topics, async (topic) => {
        const next = new Map<number, bigint>();
        for (const c of committed) if (c.topic === topic) next.set(c.partition, c.offset);
        return next;
      });
    },
  };
}

const sources = new Map<LagSource, KafkaClient>();

/**
 * The consumer lag gauge: at each scrape, every group registered in this process is measured
 * against the log's end. A group that cannot be measured just now is left out of that scrape.
 */
new Gauge({
  name: 'orderstream_consumer_lag',
  help: 'Records a consumer group has yet to process, per group, topic and partition',
  labelNames: ['group', 'topic', 'partition'] as const,
  registers,
  async collect() {
    this.reset();
    for (const [source, kafka] of sources) {
      const admin = kafka.admin();
      try {
        for (const r of await source.lag(admin)) {
          this.set(
            { group: source.group, topic: r.topic, partition: String(r.partition) },
            Number(r.lag),
          );
        }
      } catch {
        // not measurable just now (a broker or store away): absent from this scrape
      } finally {
        await admin.close().catch(() => undefined);
      }
    }
  },
});

/** Reports `source`'s lag at `/metrics` until the returned function is called. */
export function reportLag(kafka: KafkaClient, source: LagSource): () => void {
  sources.set(source, kafka);
  return () => sources.delete(source);
}
