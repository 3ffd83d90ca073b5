import { performance } from 'node:perf_hooks';
import type { KafkaClient, TransactionalProducer } from '../../../lib/kafka';
import { perSecond, records } from './records';

export interface TransactionsResult {
  producers: number;
  messagesPerTransaction: number;
  transactions: number;
  ms: number;
  txPerSec: number;
}

/** Opens `count` transactional producers (`<idPrefix>.<n>`): the fencing step, off the clock. */
export async function openProducers(
  kafka: KafkaClient,
  idPrefix: string,
  count: number,
): Promise<TransactionalProducer[]> {
  const producers = Array.from({ length: count }, (_, i) =>
    kafka.transactionalProducer(`${idPrefix}.${i}`),
  );
  try {
    await Promise.all(producers.map((p) => p.open()));
  } catch (err) {
    await closeAll(producers);
    throw err;
  }
  return producers;
}

export async function closeAll(producers: TransactionalProducer[]): Promise<void> {
  await Promise.allSettled(producers.map((p) => p.close()));
}

/**
 * Transactions of one message, back to back, from `producers` producers in parallel (each to
 * its own partition) for `durationMs`: the cost of a commit with nothing to amortise it.
 */
export async function rawTransactions(
  kafka: KafkaClient,
  topic: string,
  idPrefix: string,
  producers: number,
  durationMs: number,
): Promise<TransactionsResult> {
  const open = await openProducers(kafka, idPrefix, producers);
  try {
    // Counted: transactions committed within the window (one still open at its end is not).
    let transactions = 0;
    const start = performance.now();
    const end = start + durationMs;
    await Promise.all(
      open.map(async (producer, i) => {
        let n = 0;
        while (performance.now() < end) {
          const [record] = records(topic, n++, 1);
          if (!record) break;
          await producer.transaction((tx) => tx.send([{ ...record, partition: i }]));
          if (performance.now() <= end) transactions += 1;
        }
      }),
    );
    return {
      producers,
      messagesPerTransaction: 1,
      transactions,
      ms: durationMs,
      txPerSec: perSecond(transactions, durationMs),
    };
  } finally {
    await closeAll(open);
  }
}
