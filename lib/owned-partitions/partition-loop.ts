import {
  type GroupConsumer,
  type KafkaClient,
  KafkaFencedError,
  type TopicPartitionOffset,
  type TransactionalProducer,
} from '../kafka/index';
import type { Logger } from '../logger';
import type { Decided, Entry, OwnedPartition, PartitionWork } from './partition-work';

export interface LoopOptions {
  kafka: KafkaClient;
  consumer: GroupConsumer;
  logger: Logger;
  /** Most entries decided and committed in one transaction. */
  maxBatch: number;
  /** Records queued beyond this pause the partition's fetching until the queue drains. */
  maxQueued: number;
}

type State = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Where the consumed records of `entries` leave the group: the offset after the last one. */
function offsetsAfter(
  partition: OwnedPartition,
  entries: Entry<unknown>[],
): TopicPartitionOffset[] {
  let last: bigint | undefined;
  for (const entry of entries) if ('record' in entry) last = entry.record.offset;
  return last === undefined
    ? []
    : [{ topic: partition.topic, partition: partition.partition, offset: last + 1n }];
}

/**
 * The single writer of one partition (DESIGN §4): fences the previous owner, lets the work
 * rebuild its state, then decides queued entries in batches — whatever arrived while the last
 * transaction was out (group commit) — each committed in one transaction with the consumed
 * offsets. A failed transaction restarts the owner from the log; an entry that fails even on
 * its own is handed to `work.poison` so the partition goes on.
 */
export class PartitionLoop<Local> {
  private state: State = 'starting';
  private queue: Entry<Local>[] = [];
  private producer: TransactionalProducer | undefined;
  private draining: Promise<void> | undefined;
  private started: Promise<void>;
  private paused = false;
  private notBefore = 0;
  private failures = 0;

  constructor(
    readonly partition: OwnedPartition,
    private readonly work: PartitionWork<Local>,
    private readonly options: LoopOptions,
  ) {
    this.started = this.open();
  }

  /** Accepting entries (starting or running), as opposed to stopping or stopped. */
  get active(): boolean {
    return this.state === 'starting' || this.state === 'ready' || this.state === 'restarting';
  }

  /** Resolves once the owner has rebuilt its state and decides entries. */
  whenReady(): Promise<void> {
    return this.started;
  }

  private async open(): Promise<void> {
    for (let attempt = 1; this.active; attempt += 1) {
      try {
        await this.producer?.close().catch(() => undefined);
        const producer = this.options.kafka.transactionalProducer(this.partition.transactionalId);
        this.producer = producer;
        await producer.open();
        await this.work.rebuild();
        if (!this.active) {
          // Stopped while rebuilding: this producer is not the one shutdown closed.
          await producer.close().catch(() => undefined);
          return;
        }
        this.state = 'ready';
        this.kick();
        return;
      } catch (err) {
        this.options.logger.warn(
          { err, topic: this.partition.topic, partition: this.partition.partition, attempt },
          'partition owner could not start; trying again',
        );
        await sleep(Math.min(200 * attempt, 5000));
      }
    }
  }

  push(entries: Entry<Local>[]): void {
    if (!this.active) {
      for (const entry of entries)
        if ('local' in entry) this.work.abandon(entry.local, new PartitionMovedError());
      return;
    }
    this.queue.push(...entries);
    if (!this.paused && this.queuedRecords() > this.options.maxQueued) {
      this.paused = true;
      this.options.consumer.pause([this.partition]);
    }
    this.kick();
  }

  private queuedRecords(): number {
    let n = 0;
    for (const entry of this.queue) if ('record' in entry) n += 1;
    return n;
  }

  private kick(): void {
    if (this.draining || this.state !== 'ready' || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.state === 'ready' && this.queue.length > 0) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) await sleep(Math.min(wait, 1000));
      if (this.notBefore > Date.now()) continue;
      // After repeated failures, entries go one at a time to find the one at fault.
      const size = this.failures >= 2 ? 1 : this.options.maxBatch;
      const batch = this.queue.splice(0, size);
      await this.runBatch(batch);
      if (this.paused && this.queuedRecords() <= this.options.maxQueued / 2 && this.active) {
        this.paused = false;
        this.options.consumer.resume([this.partition]);
      }
    }
  }

  private async runBatch(batch: Entry<Local>[]): Promise<void> {
    let decided: Decided<Local>;
    try {
      decided = await this.work.decide(batch);
    } catch (err) {
      return this.failed(batch, asError(err), undefined);
    }
    const later = new Set(decided.later ?? []);
    const done = batch.filter((e) => !later.has(e));
    try {
      const positions = await this.commit(decided, offsetsAfter(this.partition, done));
      decided.committed(positions);
      this.failures = 0;
      if (decided.later?.length) {
        this.queue.unshift(...decided.later);
        this.notBefore = decided.laterAt ?? Date.now();
      }
    } catch (err) {
      await this.failed(batch, asError(err), decided);
    }
  }

  private commit(
    decided: Decided<Local>,
    offsets: TopicPartitionOffset[],
  ): Promise<TopicPartitionOffset[]> {
    const producer = this.producer;
    if (!producer) return Promise.reject(new PartitionMovedError());
    // Nothing to append and nothing consumed (e.g. a sweep that found nothing due): no transaction.
    if (decided.records.length === 0 && offsets.length === 0 && !decided.followWith)
      return Promise.resolve([]);
    return producer.transaction(async (tx) => {
      const positions = await tx.send(decided.records);
      const more = decided.followWith?.(positions) ?? [];
      if (more.length > 0) await tx.send(more);
      await tx.sendOffsets(this.options.consumer, offsets);
      return positions;
    });
  }

  private async failed(
    batch: Entry<Local>[],
    error: Error,
    decided: Decided<Local> | undefined,
  ): Promise<void> {
    const where = { topic: this.partition.topic, partition: this.partition.partition };
    if (decided) decided.failed(error);
    else for (const e of batch) if ('local' in e) this.work.abandon(e.local, error);
    if (error instanceof KafkaFencedError) {
      this.options.logger.warn({ ...where }, 'partition owner fenced by a newer owner; stopping');
      this.state = 'stopping';
      await this.shutdown();
      return;
    }
    this.failures += 1;
    const [only] = batch;
    if (batch.length === 1 && only && this.failures >= 3) {
      // Fails alone, again and again: set it aside (a refusal or a dead letter) and go on.
      this.options.logger.error(
        { ...where, err: error },
        'entry set aside after repeated failures',
      );
      const poison = this.work.poison(only, error);
      try {
        poison.committed(await this.commit(poison, offsetsAfter(this.partition, batch)));
        this.failures = 0;
        return;
      } catch (err) {
        poison.failed(asError(err));
      }
    }
    this.options.logger.warn(
      { ...where, err: error, failures: this.failures },
      'batch failed; owner restarts from the log',
    );
    // Records come back (the log still has them); local requests were answered as failed.
    this.queue.unshift(...batch.filter((e) => 'record' in e));
    this.state = 'restarting';
    await sleep(Math.min(100 * 2 ** this.failures, 5000));
    if (this.state !== 'restarting') return;
    this.started = this.open();
    await this.started;
  }

  /** Stops for good (the partition was revoked): the current batch ends, queued requests are refused. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    await this.draining?.catch(() => undefined);
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    for (const entry of this.queue.splice(0))
      if ('local' in entry) this.work.abandon(entry.local, new PartitionMovedError());
    await this.producer?.close().catch(() => undefined);
    this.producer = undefined;
    this.state = 'stopped';
  }
}

/** The partition is not (or no longer) owned here: the caller may try again. */
export class PartitionMovedError extends Error {
  override name = 'PartitionMovedError';
  constructor(message = 'the partition moved to another owner; try again') {
    super(message);
  }
}
