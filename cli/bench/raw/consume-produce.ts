import { performance } from 'node:perf_hooks';
import type { ConsumedRecord, KafkaClient } from '../../../lib/kafka';
import { perSecond } from './records';
import { closeAll, openProducers } from './transactions';

export interface ConsumeProduceResult {
  producers: number;
  messagesPerTransaction: number;
  messages: number;
  transactions: number;
  ms: number;
  msgsPerSec: number;
  /** The input ran out before the duration did (the rate is over the time it lasted). */
  inputExhausted: boolean;
}

export interface ConsumeProduceOptions {
  input: string;
  /** Records in `input` (so the loop knows when it has read them all). */
  inputRecords: number;
  output: string;
  groupId: string;
  idPrefix: string;
  /** One transactional producer per input partition (partition n → producer n mod count). */
  producers: number;
  messagesPerTransaction: number;
  durationMs: number;
}

/**
 * A consume→transform→produce loop, the shape of a partition owner: one group consumer on the
 * input, one transactional producer per partition; each transaction carries
 * `messagesPerTransaction` output records and the consumed offsets (sendOffsets). Measured
 * from the first commit for `durationMs`, or until the input is used up.
 */
export async function rawConsumeProduce(
  kafka: KafkaClient,
  o: ConsumeProduceOptions,
): Promise<ConsumeProduceResult> {
  const producers = await openProducers(kafka, o.idPrefix, o.producers);
  const consumer = kafka.groupConsumer({ groupId: o.groupId, topics: [o.input], maxWaitMs: 50 });
  // Counted: what commits within `durationMs` of the first commit (the window), after it.
  let messages = 0;
  let transactions = 0;
  let firstCommit: number | undefined;
  let lastCommit = 0;
  let finished = false;
  let windowTimer: NodeJS.Timeout | undefined;
  let fail: ((error: Error) => void) | undefined;
  let finish: (() => void) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  /** Records consumed and committed, counted or not (to know when the input is used up). */
  let consumed = 0;
  const stop = () => {
    finished = true;
    finish?.();
  };

  const commitChunk = async (chunk: ConsumedRecord[]) => {
    const last = chunk[chunk.length - 1];
    const producer = producers[(last?.partition ?? 0) % producers.length];
    if (!last || !producer) return;
    await producer.transaction(async (tx) => {
      await tx.send(
        chunk.map((r) => ({
          topic: o.output,
          partition: r.partition,
          key: r.key?.toString() ?? '',
          value: r.value,
        })),
      );
      await tx.sendOffsets(consumer, [
        { topic: last.topic, partition: last.partition, offset: last.offset + 1n },
      ]);
    });
    const now = performance.now();
    consumed += chunk.length;
    if (firstCommit === undefined) {
      // The window opens as the first transaction commits; that one is not counted.
      firstCommit = now;
      windowTimer = setTimeout(stop, o.durationMs);
    } else if (!finished && now - firstCommit <= o.durationMs) {
      lastCommit = now;
      messages += chunk.length;
      transactions += 1;
    }
    if (consumed >= o.inputRecords) stop();
  };

  const safety = setTimeout(stop, o.durationMs + 60_000);
  try {
    await consumer.start({
      onBatch: async (batch) => {
        for (let i = 0; i < batch.records.length && !finished; i += o.messagesPerTransaction)
          await commitChunk(batch.records.slice(i, i + o.messagesPerTransaction));
      },
      onCrash: (error) => fail?.(error),
    });
    await done;
  } finally {
    clearTimeout(safety);
    clearTimeout(windowTimer);
    finished = true;
    await consumer.close().catch(() => undefined);
    await closeAll(producers);
  }
  const inputExhausted = consumed >= o.inputRecords;
  // The window is the duration, or up to the last commit when the input ran out first.
  const ms =
    firstCommit === undefined
      ? 0
      : inputExhausted
        ? Math.max(0, lastCommit - firstCommit)
        : o.durationMs;
  return {
    producers: o.producers,
    messagesPerTransaction: o.messagesPerTransaction,
    messages,
    transactions,
    ms: Math.round(ms),
    msgsPerSec: perSecond(messages, ms),
    inputExhausted,
  };
}
