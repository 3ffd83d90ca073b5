import { context, type Span } from '@opentelemetry/api';
import {
  type ConsumedRecord,
  type GroupConsumer,
  type KafkaClient,
  type Producer,
  partitionKey,
  type RecordBatch,
  type TopicPartition,
  type TopicPartitionOffset,
} from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { projectionApplied } from '../../lib/metrics/registry';
import {
  contextWith,
  endSpan,
  startBatchConsumerSpan,
  TRACERS,
  type TraceHeaders,
} from '../../lib/telemetry/trace-context';
import { projectedEvent } from '../../read-models/projected-event';
import { decodeEvent } from '../../schemas/codec';
import { type ProjectedEvent, ProjectionPoisonError, type ProjectionTarget } from './projection';

export interface RunnerOptions {
  kafka: KafkaClient;
  logger: Logger;
  groupId: string;
  topics: string[];
  target: ProjectionTarget;
  batchSize: number;
  deadLetterTopic: string;
}

/** Attempts at reading a target's checkpoints when partitions are assigned. */
const RESUME_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Feeds a ProjectionTarget from its consumer group (DESIGN §5): each assigned partition is
 * sought to the target's lowest checkpoint + 1 rather than the group's committed offset, and
 * the consumer delivers the partition's committed records in order from there. Transaction
 * markers and records of aborted transactions are never delivered, but the checkpoint moves
 * past them: with the batch they follow (its nextOffset), or alone when the consumer tells a
 * position past them later (onPosition), so a projection reaches the log's end even when the
 * log ends on them. Poison events go to the projector dead-letter topic and the partition
 * goes on.
 */
export class ProjectionRunner {
  private readonly consumer: GroupConsumer;
  private readonly producer: Producer;
  /** Next offset the target needs, per topic#partition. */
  private readonly next = new Map<string, bigint>();
  /** Per topic#partition, its applies one after the other (batches and passed markers). */
  private readonly turns = new Map<string, Promise<void>>();
  private crash: Error | undefined;

  constructor(private readonly options: RunnerOptions) {
    this.consumer = options.kafka.groupConsumer({
      groupId: options.groupId,
      topics: options.topics,
      sessionTimeoutMs: 10_000,
      autoCommit: true,
    });
    this.producer = options.kafka.producer();
  }

  /** The error that stopped the consumer for good, if one did (its supervisor restarts it). */
  get crashed(): Error | undefined {
    return this.crash;
  }

  async start(): Promise<void> {
    await this.consumer.start({
      onAssigned: (partitions) => this.seekToCheckpoints(partitions),
      onRevoked: (partitions) => {
        for (const p of partitions) this.next.delete(partitionKey(p));
      },
      onBatch: (batch) => this.inTurn(partitionKey(batch), () => this.handleBatch(batch)),
      onPosition: (position) => this.pass(position),
      onCrash: (err) => {
        this.crash = err;
        this.options.logger.error(
          { err, projection: this.options.target.name },
          'projection consumer stopped',
        );
      },
    });
  }

  private inTurn(key: string, work: () => Promise<void>): Promise<void> {
    const turn = (this.turns.get(key) ?? Promise.resolve()).then(work);
    this.turns.set(
      key,
      turn.catch(() => undefined),
    );
    return turn;
  }

  private async seekToCheckpoints(partitions: TopicPartition[]): Promise<void> {
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      const numbers = partitions.filter((p) => p.topic === topic).map((p) => p.partition);
      const resume = await this.resumeOffsets(topic, numbers);
      for (const partition of numbers) {
        const offset = resume.get(partition) ?? 0n;
        this.next.set(partitionKey({ topic, partition }), offset);
        this.consumer.seek({ topic, partition, offset });
      }
    }
  }

  private async resumeOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.options.target.resumeOffsets(topic, partitions);
      } catch (err) {
        if (attempt >= RESUME_ATTEMPTS) throw err;
        this.options.logger.warn(
          { err, projection: this.options.target.name, topic },
          'could not read the checkpoints; trying again',
        );
        await sleep(200 * attempt);
      }
    }
  }

  private async handleBatch(batch: RecordBatch): Promise<void> {
    const { topic, partition } = batch;
    const key = partitionKey(batch);
    const expected = this.next.get(key);
    if (expected === undefined) {
      // The seek on assignment failed: read the partition again from the checkpoint.
      const offset = (await this.resumeOffsets(topic, [partition])).get(partition) ?? 0n;
      this.next.set(key, offset);
      this.consumer.seek({ topic, partition, offset });
      return;
    }
    const fresh = batch.records.filter((r) => r.offset >= expected);
    for (let i = 0; i < fresh.length; i += this.options.batchSize) {
      const chunk = fresh.slice(i, i + this.options.batchSize);
      const final = i + this.options.batchSize >= fresh.length;
      // The last chunk's checkpoint passes the markers that follow the batch.
      const after = (chunk.at(-1) as ConsumedRecord).offset + 1n;
      const next = final && batch.nextOffset !== undefined ? batch.nextOffset : after;
      await this.applyChunk(topic, partition, chunk, next - 1n);
      this.next.set(key, next);
    }
  }

  /**
   * The consumer's position moved past records it never delivers (transaction markers, aborted
   * transactions) with no record after them: the checkpoint moves there alone.
   */
  private pass({ topic, partition, offset }: TopicPartitionOffset): void {
    const key = partitionKey({ topic, partition });
    void this.inTurn(key, async () => {
      const expected = this.next.get(key);
      if (expected === undefined || offset <= expected) return;
      await this.options.target.apply(topic, partition, [], String(offset - 1n));
      this.next.set(key, offset);
    }).catch((err: unknown) =>
      // The next batch of the partition moves the checkpoint past these offsets anyway.
      this.options.logger.warn(
        { err, projection: this.options.target.name, topic, partition, offset: String(offset) },
        'could not move the checkpoint past transaction markers',
      ),
    );
  }

  private async applyChunk(
    topic: string,
    partition: number,
    chunk: ConsumedRecord[],
    last: bigint,
  ): Promise<void> {
    const events: ProjectedEvent[] = [];
    const traces: TraceHeaders[] = [];
    for (const record of chunk) {
      try {
        const { event, meta } = decodeEvent(record);
        events.push(
          projectedEvent(event, { topic, partition, offset: String(record.offset), meta }),
        );
        traces.push(meta);
      } catch (err) {
        await this.deadLetter(record, err);
      }
    }
    // One span per chunk for as long as its apply takes, continuing the trace of its first event
    // and linking the others': a span per event per projection was a third of all spans.
    const [lone] = events;
    const span = startBatchConsumerSpan(
      TRACERS.projectors,
      events.length === 1 && lone ? `project ${lone.type}` : `project ${events.length} events`,
      traces,
      {
        'orderstream.projection': this.options.target.name,
        'messaging.destination.name': topic,
        'messaging.batch.message_count': events.length,
      },
    );
    try {
      await this.applyTraced(topic, partition, chunk, events, last, span);
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
    endSpan(span);
  }

  private async applyTraced(
    topic: string,
    partition: number,
    chunk: ConsumedRecord[],
    events: ProjectedEvent[],
    last: bigint,
    span: Span,
  ): Promise<void> {
    const active = events.length === 1 ? span : undefined;
    const apply = () => this.options.target.apply(topic, partition, events, String(last));
    try {
      // A lone event's span is the parent of the store's calls (pg, ioredis spans).
      await (active ? context.with(contextWith(active), apply) : apply());
      projectionApplied.inc({ projection: this.options.target.name }, events.length);
    } catch (err) {
      if (!(err instanceof ProjectionPoisonError)) throw err;
      // Find the culprit(s): apply one event at a time, setting aside those that cannot be.
      for (const event of events) {
        try {
          await this.options.target.apply(topic, partition, [event], event.offset);
          projectionApplied.inc({ projection: this.options.target.name });
        } catch (single) {
          if (!(single instanceof ProjectionPoisonError)) throw single;
          const record = chunk.find((r) => String(r.offset) === event.offset) as ConsumedRecord;
          await this.deadLetter(record, single);
          await this.options.target.apply(topic, partition, [], event.offset);
        }
      }
      await this.options.target.apply(topic, partition, [], String(last));
    }
  }

  private async deadLetter(record: ConsumedRecord, err: unknown): Promise<void> {
    const error = err instanceof Error ? err.message : String(err);
    const { topic, partition, offset } = record;
    this.options.logger.error(
      { projection: this.options.target.name, topic, partition, offset: String(offset), error },
      'poison event set aside in the dead-letter topic',
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(record.headers)) {
      if (value !== undefined) headers[name] = value.toString('utf8');
    }
    await this.producer.send([
      {
        topic: this.options.deadLetterTopic,
        key: record.key?.toString('utf8') ?? '',
        value: record.value,
        headers: {
          ...headers,
          'dlq-projection': this.options.target.name,
          'dlq-error': error.slice(0, 2000),
          'dlq-topic': topic,
          'dlq-partition': String(partition),
          'dlq-offset': String(offset),
          'dlq-at': new Date().toISOString(),
        },
      },
    ]);
  }

  async stop(): Promise<void> {
    await this.consumer.close();
    await Promise.all(this.turns.values());
    await this.producer.close();
  }
}
