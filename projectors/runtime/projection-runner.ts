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
 * Feeds a ProjectionTarget from its consumer group (DESIGN §5): each assigned partition is
 * sought to the target's lowest checkpoint + 1 rather than the group's committed offset, and
 * a batch that does not start where the target expects is refetched from there — so no event
 * is skipped even if group offsets and the target disagree. Poison events go to the
 * projector dead-letter topic and the partition goes on.
 */
export class ProjectionRunner {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  /** Next offset the target needs, per topic#partition. */
  private readonly next: Positions = new Map();

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

  private async handleBatch(
    batch: Batch,
    resolveOffset: (offset: string) => void,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const { topic, partition } = batch;
    const expected = await this.expectedOffset(topic, partition);
    const first = batch.messages[0];
    if (first && BigInt(first.offset) > expected) {
      // The fetch started past what the target has applied: read the gap first.
      this.consumer.seek({ topic, partition, offset: String(expected) });
      return;
    }
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= expected);
    const lastInBatch = batch.messages.at(-1);
    if (fresh.length === 0 && lastInBatch) {
      resolveOffset(lastInBatch.offset); // all applied before: move on
      return;
    }
    for (let i = 0; i < fresh.length; i += this.options.batchSize) {
      const chunk = fresh.slice(i, i + this.options.batchSize);
      const lastMessage = (chunk.at(-1) as KafkaMessage).offset;
      // The batch's last offset also counts transaction markers after its last message.
      const final = i + this.options.batchSize >= fresh.length;
      const last =
        final && BigInt(batch.lastOffset()) > BigInt(lastMessage)
          ? batch.lastOffset()
          : lastMessage;
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
