import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { LogReader, ReadRange, RecordBatch, TopicPartitionOffset } from '../port';
import { IDLE_POLL_MS } from '../settings';
import { recordsOf } from './group-consumer';

const keyOf = (topic: string, partition: number): string => `${topic}#${partition}`;

/**
 * kafkajs has no manual assignment, so a reader is the only member of a throwaway consumer
 * group that never commits: it is given every partition of its topics, seeks the wanted ones
 * when it joins (before its first fetch) and pauses the others.
 */
export class KafkajsLogReader implements LogReader {
  private consumer: Consumer | undefined;

  constructor(private readonly kafka: Kafka) {}

  async read(
    ranges: ReadRange[],
    onBatch: (batch: RecordBatch) => Promise<void> | void,
    onProgress?: (position: TopicPartitionOffset) => void,
  ): Promise<void> {
    const wanted = new Map(ranges.map((r) => [keyOf(r.topic, r.partition), r]));
    // Ranges with an end still to reach; the read resolves when none is left.
    const open = new Set(
      ranges
        .filter((r) => r.until === undefined || r.until > r.from)
        .map((r) => keyOf(r.topic, r.partition)),
    );
    const bounded = () => [...open].filter((k) => wanted.get(k)?.until !== undefined);
    if (open.size === 0) return;
    const consumer = this.kafka.consumer({
      groupId: `orderstream.reader.${randomUUID()}`,
      readUncommitted: false,
      maxWaitTimeInMs: IDLE_POLL_MS,
      maxBytes: 50 * 1024 * 1024,
      sessionTimeout: 30_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    await new Promise<void>((resolve, reject) => {
      const finishIfDone = () => {
        if (bounded().length === 0 && [...open].every((k) => wanted.get(k)?.until !== undefined))
          resolve();
      };
      const progressed = (topic: string, partition: number, next: bigint) => {
        const key = keyOf(topic, partition);
        const range = wanted.get(key);
        if (!range || !open.has(key)) return;
        onProgress?.({ topic, partition, offset: next });
        if (range.until !== undefined && next >= range.until) {
          open.delete(key);
          consumer.pause([{ topic, partitions: [partition] }]);
          finishIfDone();
        }
      };
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
          for (const partition of partitions) {
            const range = wanted.get(keyOf(topic, partition));
            if (range && open.has(keyOf(topic, partition)))
              consumer.seek({ topic, partition, offset: String(range.from) });
            else consumer.pause([{ topic, partitions: [partition] }]);
          }
        }
      });
      // Also fires for batches of transaction markers only, whose offsets no record reaches.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        progressed(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      const topics = [...new Set(ranges.map((r) => r.topic))];
      Promise.all(topics.map((topic) => consumer.subscribe({ topic, fromBeginning: true })))
        .then(() =>
          consumer.run({
            autoCommit: false,
            partitionsConsumedConcurrently: Math.max(1, ranges.length),
            eachBatch: async ({ batch, isStale }) => {
              const key = keyOf(batch.topic, batch.partition);
              const range = wanted.get(key);
              if (!range || !open.has(key) || isStale()) return;
              const records = recordsOf(batch).filter(
                (r) =>
                  r.offset >= range.from && (range.until === undefined || r.offset < range.until),
              );
              if (records.length > 0)
                await onBatch({ topic: batch.topic, partition: batch.partition, records });
            },
          }),
        )
        .catch(reject);
    });
  }

  async close(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }
}
