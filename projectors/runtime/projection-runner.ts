import type { Batch, Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '../../lib/logger';
import { decodeEvent } from '../../schemas/codec';
import { type ProjectedEvent, ProjectionPoisonError, type ProjectionTarget } from './projection';

export interface RunnerOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  topics: string[];
  target: ProjectionTarget;
  batchSize: number;
  deadLetterTopic: string;
}

/** How far a runner has read each partition (for progress and lag). */
export type Positions = Map<string, bigint>;

const keyOf = (topic: string, partition: number) => `${topic}#${partition}`;

/**
 * The offset a batch's fetch asked for: kafkajs keeps it on the batch without declaring it in
 * its types. Without it, the first record the fetch returned (aborted records and transaction
 * markers included) stands in: no record sits between the two in a log that is never compacted.
 */
function fetchStart(batch: Batch): bigint {
  const fetched: unknown = Reflect.get(batch, 'fetchedOffset');
  if (typeof fetched === 'string' && /^\d+$/.test(fetched)) return BigInt(fetched);
  if (typeof fetched === 'number' && Number.isSafeInteger(fetched)) return BigInt(fetched);
  return BigInt(batch.firstOffset() ?? batch.lastOffset());
}

/**
 * Feeds a ProjectionTarget from its consumer group (DESIGN §5): each assigned partition is
 * sought to the target's lowest checkpoint + 1 rather than the group's committed offset, and
 * a fetch that started past where the target expects is read again from there — so no event
 * is skipped even if group offsets and the target disagree. A fetch that started at or before
 * it has seen every record in between: those missing from the batch are aborted records and
 * transaction markers, invisible to read_committed, and are passed over (the checkpoint moves
 * past them), never read again. Poison events go to the projector dead-letter topic and the
 * partition goes on.
 */
export class ProjectionRunner {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  /** Next offset the target needs, per topic#partition. */
  private readonly next: Positions = new Map();
  /** Per topic#partition, the checkpoint move past invisible records still under way. */
  private readonly passing = new Map<string, Promise<void>>();

  constructor(private readonly options: RunnerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
    });
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  }

  /** Next offset to apply per topic#partition, for the partitions this runner has seen. */
  positions(): Positions {
    return new Map(this.next);
  }

  async start(): Promise<void> {
    const { consumer } = this;
    await this.producer.connect();
    await consumer.connect();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      void this.seekToCheckpoints(payload.memberAssignment).catch((err: unknown) =>
        this.options.logger.error({ err }, 'could not seek to checkpoints'),
      );
    });
    // kafkajs resolves a batch of nothing but aborted records and markers itself, without
    // calling eachBatch: only this event tells the target's checkpoint to pass them.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // (firstOffset is null when the fetch returned only records before the offset it asked for.)
      if (payload.batchSize === 0 && typeof payload.firstOffset === 'string') {
        this.passInvisible(
          payload.topic,
          payload.partition,
          payload.firstOffset,
          payload.lastOffset,
        );
      }
    });
    for (const topic of this.options.topics)
      await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        await this.handleBatch(batch, resolveOffset, heartbeat);
      },
    });
  }

  private async seekToCheckpoints(assignment: Record<string, number[]>): Promise<void> {
    for (const [topic, partitions] of Object.entries(assignment)) {
      if (partitions.length === 0) continue;
      const resume = await this.options.target.resumeOffsets(topic, partitions);
      for (const partition of partitions) {
        const offset = resume.get(partition) ?? 0n;
        this.next.set(keyOf(topic, partition), offset);
        this.consumer.seek({ topic, partition, offset: String(offset) });
      }
    }
  }

  private async expectedOffset(topic: string, partition: number): Promise<bigint> {
    const known = this.next.get(keyOf(topic, partition));
    if (known !== undefined) return known;
    const offset =
      (await this.options.target.resumeOffsets(topic, [partition])).get(partition) ?? 0n;
    this.next.set(keyOf(topic, partition), offset);
    return offset;
  }

  /**
   * A fetch from `first` (at or before the expected offset) to `last` that held no event: it
   * was all aborted records and transaction markers, so the target's checkpoint moves past it.
   * A fetch that started past the expected offset proves nothing; the next batch reads the gap.
   */
  private passInvisible(topic: string, partition: number, first: string, last: string): void {
    const key = keyOf(topic, partition);
    const expected = this.next.get(key);
    if (expected === undefined || BigInt(first) > expected || BigInt(last) < expected) return;
    this.next.set(key, BigInt(last) + 1n);
    const previous = this.passing.get(key) ?? Promise.resolve();
    const move = previous
      .then(() => this.options.target.apply(topic, partition, [], last))
      .catch((err: unknown) =>
        // The next batch of the partition moves the checkpoint past these offsets anyway.
        this.options.logger.warn(
          { err, projection: this.options.target.name, topic, partition, offset: last },
          'could not move the checkpoint past a transaction marker',
        ),
      );
    this.passing.set(key, move);
  }

  private async handleBatch(
    batch: Batch,
    resolveOffset: (offset: string) => void,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { topic, partition } = batch;
    await this.passing.get(keyOf(topic, partition)); // one apply at a time per partition
    const expected = await this.expectedOffset(topic, partition);
    if (fetchStart(batch) > expected) {
      // The fetch started past what the target has applied: read the gap first.
      this.consumer.seek({ topic, partition, offset: String(expected) });
      return;
    }
    // The batch's last offset also counts aborted records and markers after its last message.
    const batchLast = batch.lastOffset();
    if (BigInt(batchLast) < expected) {
      resolveOffset(batchLast); // all applied before: move on
      return;
    }
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= expected);
    if (fresh.length === 0) {
      // Only invisible records from the expected offset on: the checkpoint passes them.
      await this.applyChunk(topic, partition, [], batchLast);
      this.next.set(keyOf(topic, partition), BigInt(batchLast) + 1n);
      resolveOffset(batchLast);
      return;
    }
    for (let i = 0; i < fresh.length; i += this.options.batchSize) {
      const chunk = fresh.slice(i, i + this.options.batchSize);
      const final = i + this.options.batchSize >= fresh.length;
      const last = final ? batchLast : (chunk.at(-1) as KafkaMessage).offset;
      await this.applyChunk(topic, partition, chunk, last);
      this.next.set(keyOf(topic, partition), BigInt(last) + 1n);
      resolveOffset(last);
      await heartbeat();
    }
  }

  private async applyChunk(
    topic: string,
    partition: number,
    chunk: KafkaMessage[],
    last: string,
  ): Promise<void> {
    const events: ProjectedEvent[] = [];
    for (const message of chunk) {
      try {
        const { event, meta } = decodeEvent(message);
        const { type, ...data } = event;
        events.push({ topic, partition, offset: message.offset, type, data, meta });
      } catch (err) {
        await this.deadLetter(topic, partition, message, err);
      }
    }
    try {
      await this.options.target.apply(topic, partition, events, last);
    } catch (err) {
      if (!(err instanceof ProjectionPoisonError)) throw err;
      // Find the culprit(s): apply one event at a time, setting aside those that cannot be.
      for (const event of events) {
        try {
          await this.options.target.apply(topic, partition, [event], event.offset);
        } catch (single) {
          if (!(single instanceof ProjectionPoisonError)) throw single;
          const message = chunk.find((m) => m.offset === event.offset) as KafkaMessage;
          await this.deadLetter(topic, partition, message, single);
          await this.options.target.apply(topic, partition, [], event.offset);
        }
      }
      await this.options.target.apply(topic, partition, [], last);
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    err: unknown,
  ): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    this.options.logger.error(
      { projection: this.options.target.name, topic, partition, offset: message.offset, error },
      'poison event set aside in the dead-letter topic',
    );
    await this.producer.send({
      topic: this.options.deadLetterTopic,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...message.headers,
            'dlq-projection': this.options.target.name,
            'dlq-error': error.slice(0, 2000),
            'dlq-topic': topic,
            'dlq-partition': String(partition),
            'dlq-offset': message.offset,
            'dlq-at': new Date().toISOString(),
          },
        },
      ],
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}
