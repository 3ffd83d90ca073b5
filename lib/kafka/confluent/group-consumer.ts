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
import { IDLE_POLL_MS, sleep } from '../settings';
import { ERRORS } from './client';
import { PositionWatch } from './position-watch';

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

/** Longest a rebalance waits for the revoked partitions' handler before giving them up. */
const REVOKE_WAIT_MS = 5000;

/**
 * A librdkafka consumer group member (through the library's KafkaJS-compatible API) using the
 * cooperative-sticky assignor, so a rebalance revokes and assigns only the partitions that
 * move. Seeks asked for while `onAssigned` runs become the partitions' start offsets in the
 * assignment itself, so no record before them is ever fetched. Positions past records never
 * delivered (onPosition) come from librdkafka's own position (PositionWatch).
 */
export class ConfluentGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  private readonly consumer: KafkaJS.Consumer;
  private handlers: GroupHandlers | undefined;
  /** Seeks requested during onAssigned, applied as start offsets of the assignment. */
  private startOffsets: Map<string, bigint> | undefined;
  private positions: PositionWatch | undefined;

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
        maxWaitTimeInMs: options.maxWaitMs ?? IDLE_POLL_MS,
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
          for (const p of partitions) this.positions?.assigned(p, starts.get(keyOf(p)));
          fns.assign(
            partitions.map((p) => {
              const offset = starts.get(keyOf(p));
              return offset === undefined ? p : { ...p, offset: Number(offset) };
            }),
          );
        }
      } else if (err.code === ERRORS.ERR__REVOKE_PARTITIONS) {
        for (const p of partitions) this.positions?.revoked(p);
        // The group cannot move on (nor this member rejoin) until the partitions are given
        // up: a handler still stopping after a while — a transaction waiting on a lost
        // coordinator — goes on in the background; the next owner fences it. Nor may this
        // callback wait for it: the library takes the unassignment (and fetches again) only
        // once the callback has returned.
        const revoking = Promise.resolve()
          .then(() => this.handlers?.onRevoked?.(partitions))
          .catch((error: unknown) =>
            this.handlers?.onCrash?.(error instanceof Error ? error : new Error(String(error))),
          );
        try {
          await Promise.race([revoking, sleep(REVOKE_WAIT_MS)]);
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
    this.positions = new PositionWatch(this.nativeConsumer(), (position) =>
      handlers.onPosition?.(position),
    );
    await this.consumer.subscribe({ topics: this.options.topics });
    await this.consumer.run({
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 64,
      eachBatch: async ({ batch, isStale }) => {
        if (isStale() || batch.messages.length === 0) return;
        const records = batch.messages.map((m) => recordOf(batch.topic, batch.partition, m));
        const after = (records.at(-1) as ConsumedRecord).offset + 1n;
        const nextOffset = this.positions?.nextAfter(batch, after) ?? after;
        await handlers.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records,
          nextOffset,
        });
        if (!isStale()) this.positions?.deliveredUpTo(batch, nextOffset);
      },
    });
  }

  seek(position: TopicPartitionOffset): void {
    if (this.startOffsets) {
      this.startOffsets.set(keyOf(position), position.offset);
      return;
    }
    this.positions?.sought(position);
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
    this.positions?.close();
    // Disconnecting leaves the group: the rebalance callback revokes what this member owned.
    await this.consumer.disconnect();
  }
}
