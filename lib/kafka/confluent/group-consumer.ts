import type { KafkaConsumer, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import type {
  ConsumedHeaders,
  ConsumedRecord,
  GroupConsumer,
  GroupConsumerOptions,
  GroupHandlers,
  TopicPartition,
  TopicPartitionOffset,
} from '../port';
import { ERRORS } from './client';

type CompatMessage = KafkaJS.KafkaMessage;

function headersOf(message: CompatMessage): ConsumedHeaders {
  const headers: ConsumedHeaders = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    headers[name] = value === undefined ? undefined : Buffer.from(value);
  }
  return headers;
}

export function recordOf(topic: string, partition: number, m: CompatMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: BigInt(m.offset),
    key: m.key,
    value: m.value,
    headers: headersOf(m),
    timestamp: Number(m.timestamp),
  };
}

interface AssignmentFns {
  assign(partitions: { topic: string; partition: number; offset?: number }[]): void;
  unassign(partitions: TopicPartition[]): void;
}

const keyOf = (p: TopicPartition): string => `${p.topic}#${p.partition}`;
const POSITION_POLL_MS = 1000;

/**
 * A librdkafka consumer group member (through the library's KafkaJS-compatible API) using the
 * cooperative-sticky assignor, so a rebalance revokes and assigns only the partitions that
 * move. Seeks asked for while `onAssigned` runs become the partitions' start offsets in the
 * assignment itself, so no record before them is ever fetched.
 *
 * Positions past undelivered records: the compatible API never tells them, but librdkafka's
 * own position (`position()`) moves past transaction markers and aborted records as it hands
 * records over. It runs ahead of delivery (the API caches what it takes), so a position seen at
 * one poll is reported at the next only if by then every record librdkafka handed over (its
 * `data` events) lies below it and has been delivered, and none at or past it.
 */
export class ConfluentGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  private readonly consumer: KafkaJS.Consumer;
  private handlers: GroupHandlers | undefined;
  /** Seeks requested during onAssigned, applied as start offsets of the assignment. */
  private startOffsets: Map<string, bigint> | undefined;
  private readonly assigned = new Map<string, TopicPartition>();
  /** Per partition: one past the highest offset librdkafka handed over (never lowered). */
  private readonly fetched = new Map<string, bigint>();
  /** Per partition: the next offset after what onBatch settled, once known (sought, or a batch). */
  private readonly delivered = new Map<string, bigint>();
  /** Per partition: librdkafka's position at the previous poll. */
  private readonly seen = new Map<string, bigint>();
  private poller: NodeJS.Timeout | undefined;

  constructor(
    kafka: KafkaJS.Kafka,
    private readonly options: GroupConsumerOptions,
  ) {
    this.groupId = options.groupId;
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.consumer = kafka.consumer({
      kafkaJS: {
        groupId: options.groupId,
        fromBeginning: true,
        autoCommit: options.autoCommit ?? false,
        autoCommitInterval: 5000,
        sessionTimeout,
        heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
        maxWaitTimeInMs: options.maxWaitMs ?? 100,
        readUncommitted: false,
        partitionAssigners: [KafkaJS.PartitionAssigners.cooperativeSticky],
      },
      'js.consumer.max.batch.size': -1,
      rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[], fns: AssignmentFns) =>
        this.onRebalance(err, assignment, fns),
    });
  }

  /** The underlying librdkafka consumer (transactions commit offsets through it). */
  nativeConsumer(): KafkaConsumer {
    return (
      this.consumer as unknown as { _getInternalClient(): KafkaConsumer }
    )._getInternalClient();
  }

  private async onRebalance(
    err: LibrdKafkaError,
    assignment: TopicPartition[],
    fns: AssignmentFns,
  ): Promise<void> {
    const partitions = assignment.map(({ topic, partition }) => ({ topic, partition }));
    try {
      if (err.code === ERRORS.ERR__ASSIGN_PARTITIONS) {
        this.startOffsets = new Map();
        try {
          await this.handlers?.onAssigned?.(partitions);
        } finally {
          const starts = this.startOffsets;
          this.startOffsets = undefined;
          for (const p of partitions) {
            const start = starts.get(keyOf(p));
            this.assigned.set(keyOf(p), p);
            this.seen.delete(keyOf(p));
            if (start === undefined) this.delivered.delete(keyOf(p));
            else this.delivered.set(keyOf(p), start);
          }
          fns.assign(
            partitions.map((p) => {
              const offset = starts.get(keyOf(p));
              return offset === undefined ? p : { ...p, offset: Number(offset) };
            }),
          );
        }
      } else if (err.code === ERRORS.ERR__REVOKE_PARTITIONS) {
        for (const p of partitions) {
          this.assigned.delete(keyOf(p));
          this.delivered.delete(keyOf(p));
          this.seen.delete(keyOf(p));
        }
        try {
          await this.handlers?.onRevoked?.(partitions);
        } finally {
          fns.unassign(partitions);
        }
      }
    } catch (error) {
      this.handlers?.onCrash?.(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async start(handlers: GroupHandlers): Promise<void> {
    this.handlers = handlers;
    await this.consumer.connect();
    if (handlers.onPosition) this.watchPositions(handlers.onPosition.bind(handlers));
    await this.consumer.subscribe({ topics: this.options.topics });
    await this.consumer.run({
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch, isStale }) => {
        if (isStale() || batch.messages.length === 0) return;
        const records = batch.messages.map((m) => recordOf(batch.topic, batch.partition, m));
        await handlers.onBatch({ topic: batch.topic, partition: batch.partition, records });
        const key = keyOf(batch);
        if (isStale() || !this.assigned.has(key)) return;
        // After a seek outside onAssigned, positions seen before this batch may predate it.
        if (!this.delivered.has(key)) this.seen.delete(key);
        this.delivered.set(key, (records.at(-1) as ConsumedRecord).offset + 1n);
      },
    });
  }

  private watchPositions(report: (position: TopicPartitionOffset) => void): void {
    const native = this.nativeConsumer();
    native.on('data', (m) => {
      const key = keyOf(m);
      const next = BigInt(m.offset) + 1n;
      if (next > (this.fetched.get(key) ?? -1n)) this.fetched.set(key, next);
    });
    this.poller = setInterval(() => {
      const partitions = [...this.assigned.values()];
      if (partitions.length === 0) return;
      let positions: { topic: string; partition: number; offset?: number }[];
      try {
        positions = native.position(partitions);
      } catch {
        return; // not connected (closing) or rebalancing: try again at the next poll
      }
      for (const p of positions) {
        const key = keyOf(p);
        const before = this.seen.get(key);
        if (typeof p.offset === 'number' && p.offset >= 0) this.seen.set(key, BigInt(p.offset));
        else this.seen.delete(key);
        const position = before === undefined ? undefined : this.passed(key, before);
        if (position !== undefined)
          report({ topic: p.topic, partition: p.partition, offset: position });
      }
    }, POSITION_POLL_MS);
    this.poller.unref();
  }

  /**
   * `position`, seen a poll ago, if it passes records never delivered: every record handed
   * over since (librdkafka runs no fetch for longer than that) lies below it and was delivered.
   */
  private passed(key: string, position: bigint): bigint | undefined {
    const delivered = this.delivered.get(key);
    if (delivered === undefined || position <= delivered) return undefined;
    const fetched = this.fetched.get(key);
    if (fetched !== undefined && (fetched > delivered || fetched > position)) return undefined;
    this.delivered.set(key, position);
    return position;
  }

  seek(position: TopicPartitionOffset): void {
    if (this.startOffsets) {
      this.startOffsets.set(keyOf(position), position.offset);
      return;
    }
    // Where the partition stands is known again once a batch from the new start is delivered.
    this.delivered.delete(keyOf(position));
    this.seen.delete(keyOf(position));
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
    clearInterval(this.poller);
    // Disconnecting leaves the group: the rebalance callback revokes what this member owned.
    await this.consumer.disconnect();
  }
}
