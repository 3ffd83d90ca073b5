import { performance } from 'node:perf_hooks';
import type { KafkaClient } from '../../../lib/kafka';
import { perSecond, records } from './records';

export interface ProduceResult {
  messages: number;
  sendSize: number;
  sendsInFlight: number;
  ms: number;
  msgsPerSec: number;
}

/** Batched idempotent produce: `messages` records in sends of `sendSize`, several in flight. */
export async function rawProduce(
  kafka: KafkaClient,
  topic: string,
  messages: number,
  sendSize: number,
  sendsInFlight: number,
): Promise<ProduceResult> {
  const producer = kafka.producer();
  try {
    // Connects (and fetches metadata) before the clock starts.
    await producer.send(records(topic, -1, 1));
    let next = 0;
    const sender = async () => {
      while (next < messages) {
        const first = next;
        next += sendSize;
        await producer.send(records(topic, first, Math.min(sendSize, messages - first)));
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: sendsInFlight }, sender));
    const ms = performance.now() - start;
    return {
      messages,
      sendSize,
      sendsInFlight,
      ms: Math.round(ms),
      msgsPerSec: perSecond(messages, ms),
    };
  } finally {
    await producer.close();
  }
}
