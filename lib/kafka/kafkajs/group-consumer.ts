import type { Batch, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type {
  ConsumedHeaders,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  GroupHandlers,
  TopicPartition,
  TopicPartitionOffset,
} from '../port';
import { IDLE_POLL_MS } from '../settings';

const keyOf = (topic: string, partition: number): string => `${topic}#${partition}`;

function headersOf(message: KafkaMessage): ConsumedHeaders {
  const headers: ConsumedHeaders = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    headers[name] = value === undefined ? undefined : Buffer.from(value);
  }
  return headers;
}

export function recordsOf(batch: Batch): ConsumedRecord[] {
  return batch.messages.map((m) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: BigInt(m.offset),
    key: m.key,
    value: m.value,
    headers: headersOf(m),
    timestamp: Number(m.timestamp),
  }));
}

/**
 * A kafkajs consumer group member. kafkajs tells the new assignment only after a rebalance
 * (GROUP_JOIN), so revoked and assigned partitions are its difference with the previous one;
 * a new partition is paused until `onAssigned` has settled, so no record reaches `onBatch`
 * before the handler has seen (and maybe sought) its partition.
 *
 * A batch's `lastOffset()` counts markers and aborted records after its last message (its
 * `nextOffset`); a fetch of nothing but those never reaches eachBatch, and only kafkajs'
 * END_BATCH_PROCESS event tells where it ended (onPosition).
 */
export class KafkajsGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  private readonly consumer: Consumer;
  private owned = new Set<string>();
  /** Settles once `onAssigned` has run for the partitions of the latest assignment. */
  private readonly ready = new Map<string, Promise<void>>();
  private assignmentTurn: Promise<void> = Promise.resolve();
  private handlers: GroupHandlers | undefined;
  /** Per partition: the next offset to deliver, once known (sought, or after a batch). */
  private readonly next = new Map<string, bigint>();

  constructor(
    kafka: Kafka,
    private readonly options: GroupConsumerOptions,
  ) {
    this.groupId = options.groupId;
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
      maxWaitTimeInMs: options.maxWaitMs ?? IDLE_POLL_MS,
      readUncommitted: false,
    });
  }

  async start(handlers: GroupHandlers): Promise<void> {
    this.handlers = handlers;
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) handlers.onCrash?.(payload.error);
    });
    if (handlers.onPosition) {
      const report = handlers.onPosition.bind(handlers);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const position = this.passed(payload);
        if (position) report(position);
      });
    }
    await consumer.connect();
    for (const topic of this.options.topics)
      await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: this.options.autoCommit ?? false,
      autoCommitInterval: 5000,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const key = keyOf(batch.topic, batch.partition);
        if (!isRunning() || isStale() || !this.owned.has(key)) return;
        const gate = this.ready.get(key);
        if (gate) {
          // Not ready yet: fetch it again once the handler has seen the partition.
          const tp = [{ topic: batch.topic, partitions: [batch.partition] }];
          consumer.pause(tp);
          void gate.then(() => {
            if (this.owned.has(key)) consumer.resume(tp);
          });
          return;
        }
        const records = recordsOf(batch);
        const last = records.at(-1);
        if (!last) return;
        const nextOffset = BigInt(batch.lastOffset()) + 1n;
        const beat = setInterval(() => void heartbeat().catch(() => undefined), 1000);
        try {
          await handlers.onBatch({
            topic: batch.topic,
            partition: batch.partition,
            records,
            nextOffset,
          });
        } finally {
          clearInterval(beat);
        }
        // kafkajs fetches from the last resolved offset: resolve what was delivered (kafkajs
        // resolves the markers after the last message with it).
        if (!isStale()) {
          resolveOffset(String(last.offset));
          this.next.set(key, nextOffset);
        }
      },
    });
  }

  /**
   * Where a fetch of nothing but markers and aborted records leaves a partition, if it covers
   * where the partition stands (one fetched before a seek may not). A fetch with messages
   * says it with its batch (nextOffset), or was not delivered.
   */
  private passed(payload: {
    topic: string;
    partition: number;
    batchSize: number;
    firstOffset: string | null;
    lastOffset: string;
  }): TopicPartitionOffset | undefined {
    const key = keyOf(payload.topic, payload.partition);
    const next = this.next.get(key);
    if (next === undefined || !this.owned.has(key) || this.ready.has(key)) return undefined;
    if (payload.batchSize > 0 || payload.firstOffset === null) return undefined;
    if (BigInt(payload.firstOffset) > next) return undefined;
    const offset = BigInt(payload.lastOffset) + 1n;
    if (offset <= next) return undefined;
    this.next.set(key, offset);
    return { topic: payload.topic, partition: payload.partition, offset };
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const now = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) =>
        partitions.map((p) => keyOf(topic, p)),
      ),
    );
    const toTp = (key: string): TopicPartition => {
      const at = key.lastIndexOf('#');
      return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
    };
    const revoked = [...this.owned].filter((k) => !now.has(k));
    const assigned = [...now].filter((k) => !this.owned.has(k));
    this.owned = now;
    for (const key of [...revoked, ...assigned]) {
      this.ready.delete(key);
      this.next.delete(key);
    }
    const handlers = this.handlers;
    const turn = this.assignmentTurn.then(async () => {
      if (revoked.length > 0) await handlers?.onRevoked?.(revoked.map(toTp));
      if (assigned.length > 0) await handlers?.onAssigned?.(assigned.map(toTp));
    });
    this.assignmentTurn = turn.catch(() => undefined);
    const settled = turn.then(
      () => undefined,
      (err: unknown) => {
        handlers?.onCrash?.(err instanceof Error ? err : new Error(String(err)));
      },
    );
    for (const key of assigned) {
      this.ready.set(key, settled);
      void settled.then(() => {
        if (this.ready.get(key) === settled) this.ready.delete(key);
      });
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.next.set(keyOf(position.topic, position.partition), position.offset);
    this.consumer.seek({
      topic: position.topic,
      partition: position.partition,
      offset: String(position.offset),
    });
  }

  pause(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions)
      this.consumer.pause([{ topic, partitions: [partition] }]);
  }

  resume(partitions: TopicPartition[]): void {
    for (const { topic, partition } of partitions)
      this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
    );
  }

  async close(): Promise<void> {
    await this.consumer.disconnect();
    const owned = [...this.owned];
    this.owned = new Set();
    if (owned.length > 0) {
      await this.handlers?.onRevoked?.(
        owned.map((key) => {
          const at = key.lastIndexOf('#');
          return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
        }),
      );
    }
  }
}
