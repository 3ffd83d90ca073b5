import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { logEndOffsets } from '../../lib/kafka';

export interface PartitionRef {
  topic: string;
  partition: number;
}

/**
 * Reads partitions from their beginning to their current end, read_committed, calling
 * `onMessage` in offset order per partition. kafkajs has no manual assignment, so a throwaway
 * consumer group (never committing) reads them; the other partitions it is given are paused.
 * The end is the high watermark when called: callers fence writers first, so it is final.
 */
export async function replayPartitions(
  kafka: Kafka,
  groupPrefix: string,
  targets: PartitionRef[],
  onMessage: (ref: PartitionRef, message: KafkaMessage) => void,
  heartbeat: () => Promise<void> = async () => undefined,
  /** Stop before this offset, per `topic#partition` key (default: the log's end). */
  until?: Map<string, bigint>,
): Promise<number> {
  const key = (topic: string, partition: number) => `${topic}#${partition}`;
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>(); // last offset to reach, per target
  try {
    for (const topic of new Set(targets.map((t) => t.topic))) {
      for (const { partition, high, low } of await logEndOffsets(admin, topic)) {
        const wanted = targets.some((t) => t.topic === topic && t.partition === partition);
        const end = until?.get(key(topic, partition)) ?? BigInt(high);
        const last = (end < BigInt(high) ? end : BigInt(high)) - 1n;
        if (wanted && last >= BigInt(low)) remaining.set(key(topic, partition), last);
      }
    }
  } finally {
    await admin.disconnect();
  }
  if (remaining.size === 0) return 0;

  let count = 0;
  const consumer = kafka.consumer({
    groupId: `${groupPrefix}.replay.${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
    maxBytes: 50 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      // END_BATCH_PROCESS also fires for batches of only control records (transaction
      // markers), whose offsets messages never reach.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const k = key(payload.topic, payload.partition);
        const last = remaining.get(k);
        if (last !== undefined && BigInt(payload.lastOffset) >= last) {
          remaining.delete(k);
          if (remaining.size === 0) resolve();
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      Promise.all(
        [...new Set(targets.map((t) => t.topic))].map((topic) =>
          consumer.subscribe({ topic, fromBeginning: true }),
        ),
      )
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch, pause }) => {
              if (!remaining.has(key(batch.topic, batch.partition))) {
                pause();
                return;
              }
              const last = remaining.get(key(batch.topic, batch.partition)) ?? -1n;
              for (const message of batch.messages) {
                if (BigInt(message.offset) > last) break;
                onMessage({ topic: batch.topic, partition: batch.partition }, message);
                count += 1;
              }
              await heartbeat();
            },
          }),
        )
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}
