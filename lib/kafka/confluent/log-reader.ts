import { randomUUID } from 'node:crypto';
import {
  type EofEvent,
  KafkaConsumer,
  type LibrdKafkaError,
  type Message,
} from '@confluentinc/kafka-javascript';
import type {
  ConsumedHeaders,
  ConsumedRecord,
  LogReader,
  ReadRange,
  RecordBatch,
  TopicPartitionOffset,
} from '../port';
import { IDLE_POLL_MS, type KafkaSettings } from '../settings';
import { baseConfig } from './client';

/** A setting of the library's consumer its type declarations leave out. */
interface FirstMessageTimeout {
  setDefaultIsTimeoutOnlyForFirstMessage(onlyFirst: boolean): void;
}

const keyOf = (topic: string, partition: number): string => `${topic}#${partition}`;
const BATCH = 2000;

function recordOf(m: Message): ConsumedRecord {
  const headers: ConsumedHeaders = {};
  for (const header of m.headers ?? []) {
    for (const [name, value] of Object.entries(header)) headers[name] = Buffer.from(value);
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset: BigInt(m.offset),
    key: typeof m.key === 'string' ? Buffer.from(m.key) : (m.key ?? null),
    value: m.value,
    headers,
    timestamp: m.timestamp ?? 0,
  };
}

/**
 * Reads partitions by manual assignment (no group, nothing committed). The end of a range is
 * known from the consumer's position, which librdkafka moves past transaction markers and
 * aborted records too, and from end-of-partition events.
 */
export class ConfluentLogReader implements LogReader {
  private consumer: KafkaConsumer | undefined;
  private closed = false;

  constructor(private readonly settings: KafkaSettings) {}

  async read(
    ranges: ReadRange[],
    onBatch: (batch: RecordBatch) => Promise<void> | void,
    onProgress?: (position: TopicPartitionOffset) => void,
  ): Promise<void> {
    const wanted = new Map(ranges.map((r) => [keyOf(r.topic, r.partition), r]));
    const open = new Set(
      ranges
        .filter((r) => r.until === undefined || r.until > r.from)
        .map((r) => keyOf(r.topic, r.partition)),
    );
    if (open.size === 0) return;
    const bounded = ranges.some((r) => r.until !== undefined);
    const consumer = new KafkaConsumer({
      ...baseConfig(this.settings),
      'group.id': `orderstream.reader.${randomUUID()}`,
      'enable.auto.commit': false,
      'enable.auto.offset.store': false,
      'enable.partition.eof': true,
      'isolation.level': 'read_committed',
      'fetch.wait.max.ms': IDLE_POLL_MS,
    });
    this.consumer = consumer;
    await new Promise<void>((resolve, reject) =>
      consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())),
    );
    const progressed = (topic: string, partition: number, next: bigint): void => {
      const key = keyOf(topic, partition);
      const range = wanted.get(key);
      if (!range || !open.has(key)) return;
      onProgress?.({ topic, partition, offset: next });
      if (range.until !== undefined && next >= range.until) open.delete(key);
    };
    // An end-of-partition event can be emitted before the messages fetched with it reach the
    // batch callback: applied at once it would close the range and drop them. It is applied
    // after the batch it came with.
    const ends: EofEvent[] = [];
    consumer.on('partition.eof', (eof: EofEvent) => ends.push(eof));
    consumer.assign(
      ranges
        .filter((r) => open.has(keyOf(r.topic, r.partition)))
        .map((r) => ({ topic: r.topic, partition: r.partition, offset: Number(r.from) })),
    );
    // A replay returns quickly from an empty poll; a follower waits longer (quiet when idle).
    consumer.setDefaultConsumeTimeout(bounded ? 100 : IDLE_POLL_MS);
    // The wait is for a batch's first message only: by default the library waits that long
    // for each one missing from a full batch, which made replays idle most of their time.
    (consumer as unknown as FirstMessageTimeout).setDefaultIsTimeoutOnlyForFirstMessage(true);
    while (!this.closed && open.size > 0) {
      let messages: Message[];
      try {
        messages = await new Promise<Message[]>((resolve, reject) =>
          consumer.consume(BATCH, (err: LibrdKafkaError | null, batch: Message[]) =>
            err ? reject(err) : resolve(batch),
          ),
        );
      } catch (err) {
        if (this.closed) return; // closed while waiting: a follow read ends here
        throw err;
      }
      const byPartition = new Map<string, ConsumedRecord[]>();
      for (const m of messages) {
        const key = keyOf(m.topic, m.partition);
        const range = wanted.get(key);
        if (!range || !open.has(key)) continue;
        if (range.until !== undefined && BigInt(m.offset) >= range.until) continue;
        const list = byPartition.get(key) ?? [];
        list.push(recordOf(m));
        byPartition.set(key, list);
      }
      for (const records of byPartition.values()) {
        const first = records[0] as ConsumedRecord;
        await onBatch({ topic: first.topic, partition: first.partition, records });
        progressed(first.topic, first.partition, (records.at(-1) as ConsumedRecord).offset + 1n);
      }
      for (const eof of ends.splice(0)) progressed(eof.topic, eof.partition, BigInt(eof.offset));
      if (this.closed) return; // closed while delivering: the consumer is going away
      // Transaction markers and aborted records move the position without a message (only
      // ranges with an end to reach care).
      if (!bounded) continue;
      for (const p of consumer.position()) {
        if (typeof p.offset === 'number' && p.offset >= 0)
          progressed(p.topic, p.partition, BigInt(p.offset));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer?.isConnected())
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
