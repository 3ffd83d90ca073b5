import type {
  Kafka,
  Producer as KafkajsProducer,
  Transaction as KafkajsTransaction,
} from 'kafkajs';
import type {
  GroupConsumer,
  OutgoingRecord,
  Producer,
  TopicPartitionOffset,
  Transaction,
  TransactionalProducer,
} from '../port';
import { CallsInFlight, runTransaction, Turns } from '../transaction-loop';
import { byTopic, classifyKafkajsError, positionsOf } from './client';
import { partitionOf } from './partitioner';

interface Pending {
  records: OutgoingRecord[];
  resolve: (positions: TopicPartitionOffset[]) => void;
  reject: (error: unknown) => void;
}

/** Partitions the records will land in (kafkajs' default partitioner unless given). */
async function partitionsFor(
  kafka: Kafka,
  records: OutgoingRecord[],
  counts: Map<string, number>,
): Promise<number[]> {
  const missing = [...new Set(records.map((r) => r.topic))].filter((t) => !counts.has(t));
  if (missing.length > 0) {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: missing });
      for (const t of topics) counts.set(t.name, t.partitions.length);
    } finally {
      await admin.disconnect();
    }
  }
  return records.map((r) => r.partition ?? partitionOf(r.key, counts.get(r.topic) ?? 1));
}

/**
 * The idempotent producer: kafkajs allows one request in flight per idempotent producer, so
 * concurrent sends are gathered while a request is out and go together in the next one,
 * instead of queueing callers on kafkajs' lock.
 */
export class CoalescingProducer implements Producer {
  private readonly producer: KafkajsProducer;
  private connected: Promise<void> | undefined;
  private queue: Pending[] = [];
  private sending = false;
  private readonly partitionCounts = new Map<string, number>();

  constructor(private readonly kafka: Kafka) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  send(records: OutgoingRecord[]): Promise<TopicPartitionOffset[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ records, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      this.connected ??= this.producer.connect();
      await this.connected;
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        const records = batch.flatMap((p) => p.records);
        try {
          const partitions = await partitionsFor(this.kafka, records, this.partitionCounts);
          const placed = records.map((r, i) => ({ ...r, partition: partitions[i] }));
          const metadata = await this.producer.sendBatch({
            acks: -1,
            topicMessages: [...byTopic(placed)].map(([topic, list]) => ({
              topic,
              messages: list.map((m) => m.message),
            })),
          });
          const positions = positionsOf(placed, partitions, metadata);
          let start = 0;
          for (const p of batch) {
            p.resolve(positions.slice(start, start + p.records.length));
            start += p.records.length;
          }
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } catch (err) {
      for (const p of this.queue.splice(0)) p.reject(err);
    } finally {
      this.sending = false;
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect();
  }
}

export class KafkajsTransactionalProducer implements TransactionalProducer {
  private readonly producer: KafkajsProducer;
  private readonly partitionCounts = new Map<string, number>();
  private current: KafkajsTransaction | undefined;
  private readonly turns = new Turns();
  private readonly calls = new CallsInFlight();

  constructor(
    private readonly kafka: Kafka,
    readonly transactionalId: string,
  ) {
    this.producer = kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction started right after a commit meets CONCURRENT_TRANSACTIONS until the
      // broker has written the markers (a few ms); kafkajs' default 300 ms backoff would stall
      // every owner between batches, so retry soon, as the Java client does.
      retry: { initialRetryTime: 20, maxRetryTime: 2000, retries: 20 },
    });
  }

  async open(): Promise<void> {
    // Beginning a transaction registers the id (InitProducerId): the previous producer with it
    // is fenced and its open transaction aborted.
    await this.calls.track(async () => {
      await this.producer.connect();
      await (await this.producer.transaction()).abort();
    });
  }

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.turns.run(() => this.runOne(work));
  }

  private runOne<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return runTransaction(
      {
        begin: () =>
          this.calls.track(async () => {
            const tx = await this.producer.transaction();
            this.current = tx;
            return this.wrap(tx);
          }),
        commit: () =>
          this.calls.track(async () => {
            await this.current?.commit();
            this.current = undefined;
          }),
        abort: () =>
          this.calls.track(async () => {
            const tx = this.current;
            this.current = undefined;
            if (tx?.isActive()) await tx.abort();
          }),
        classify: classifyKafkajsError,
      },
      work,
    );
  }

  private wrap(tx: KafkajsTransaction): Transaction {
    return {
      send: (records) => this.calls.track(() => this.sendIn(tx, records)),
      sendOffsets: (consumer: GroupConsumer, offsets: TopicPartitionOffset[]) =>
        this.calls.track(() => this.sendOffsetsIn(tx, consumer, offsets)),
    };
  }

  private async sendIn(
    tx: KafkajsTransaction,
    records: OutgoingRecord[],
  ): Promise<TopicPartitionOffset[]> {
    if (records.length === 0) return [];
    const partitions = await partitionsFor(this.kafka, records, this.partitionCounts);
    const placed = records.map((r, i) => ({ ...r, partition: partitions[i] }));
    const metadata = await tx.sendBatch({
      acks: -1,
      topicMessages: [...byTopic(placed)].map(([topic, list]) => ({
        topic,
        messages: list.map((m) => m.message),
      })),
    });
    return positionsOf(placed, partitions, metadata);
  }

  private async sendOffsetsIn(
    tx: KafkajsTransaction,
    consumer: GroupConsumer,
    offsets: TopicPartitionOffset[],
  ): Promise<void> {
    if (offsets.length === 0) return;
    const topics = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      const list = topics.get(o.topic) ?? [];
      list.push({ partition: o.partition, offset: String(o.offset) });
      topics.set(o.topic, list);
    }
    await tx.sendOffsets({
      consumerGroupId: consumer.groupId,
      topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
    });
  }

  async close(): Promise<void> {
    await this.calls.close();
    await this.producer.disconnect();
  }
}
