import {
  type GroupConsumer,
  type KafkaClient,
  KafkaFencedError,
  KafkaGroupMembershipError,
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

/** How long a partition stays quiet before offsets of batches that appended nothing commit. */
const FLUSH_AFTER_MS = 2000;
/**
 * Longest `stop` waits for the transaction in flight: one waiting on a lost broker may take
 * minutes to fail, retries included. The producer is then closed, which waits only for the
 * broker call under way (up to its own timeout: a client cannot be destroyed under it) and
 * refuses the transaction's next; the next owner fences it anyway.
 */
const STOP_WAIT_MS = 10_000;
/** Wait after a transaction refused for the consumer's group membership, before trying again. */
const MEMBERSHIP_BACKOFF_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/**
 * Where the consumed records of `entries` leave the group: past the last one and the
 * transaction markers the consumer already saw after it (so an idle group shows no lag).
 */
function offsetsAfter(
  partition: OwnedPartition,
  entries: Entry<unknown>[],
): TopicPartitionOffset[] {
  let after: bigint | undefined;
  for (const entry of entries)
    if ('record' in entry) after = entry.next ?? entry.record.offset + 1n;
  return after === undefined
    ? []
    : [{ topic: partition.topic, partition: partition.partition, offset: after }];
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
  /** Consumed records in the queue (the queue also holds local entries). */
  private recordsQueued = 0;
  /**
   * Where the consumed records of batches that appended nothing end: committed with the next
   * transaction, or by a transaction of its own once the partition has been quiet a moment.
   * A batch with nothing to append needs no transaction: handled again after a failover, it
   * appends nothing again.
   */
  private unsent: TopicPartitionOffset | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushDue = false;

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
    for (const entry of entries) if ('record' in entry) this.recordsQueued += 1;
    if (!this.paused && this.recordsQueued > this.options.maxQueued) {
      this.paused = true;
      this.options.consumer.pause([this.partition]);
    }
    this.kick();
  }

  /** Takes entries off the head of the queue. */
  private take(count: number): Entry<Local>[] {
    const taken = this.queue.splice(0, count);
    for (const entry of taken) if ('record' in entry) this.recordsQueued -= 1;
    return taken;
  }

  /** Puts entries back at the head of the queue. */
  private putBack(entries: Entry<Local>[]): void {
    this.queue.unshift(...entries);
    for (const entry of entries) if ('record' in entry) this.recordsQueued += 1;
  }

  private kick(): void {
    if (this.draining || this.state !== 'ready') return;
    if (this.queue.length === 0 && !this.flushDue) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (this.state === 'ready' && (this.queue.length > 0 || this.flushDue)) {
      if (this.queue.length === 0) {
        await this.flushOffsets();
        continue;
      }
      const wait = this.notBefore - Date.now();
      if (wait > 0) await sleep(Math.min(wait, 1000));
      if (this.notBefore > Date.now()) continue;
      // After repeated failures, entries go one at a time to find the one at fault.
      const size = this.failures >= 2 ? 1 : this.options.maxBatch;
      const batch = this.take(size);
      await this.runBatch(batch);
      if (this.paused && this.recordsQueued <= this.options.maxQueued / 2 && this.active) {
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
        this.putBack(decided.later);
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
    if (decided.records.length === 0 && !decided.followWith) {
      // Nothing to append: no transaction; the consumed offsets go with a later one.
      const [end] = offsets;
      if (end && (!this.unsent || end.offset > this.unsent.offset)) this.unsent = end;
      if (this.unsent) this.scheduleFlush();
      return Promise.resolve([]);
    }
    const withUnsent = this.unsent && !offsets.length ? [this.unsent] : offsets;
    const flushing = this.unsent;
    return producer
      .transaction(async (tx) => {
        const positions = await tx.send(decided.records);
        const more = decided.followWith?.(positions) ?? [];
        if (more.length > 0) await tx.send(more);
        await tx.sendOffsets(this.options.consumer, withUnsent);
        return positions;
      })
      .then((positions) => {
        if (this.unsent === flushing) this.unsent = undefined;
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
    // The group's membership, not the batch, failed: it is no reason to set an entry aside.
    const membership = error instanceof KafkaGroupMembershipError;
    if (!membership) this.failures += 1;
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
      membership
        ? 'consumer left its group generation; owner restarts from the log once it rejoins'
        : 'batch failed; owner restarts from the log',
    );
    // Stopped meanwhile (the partition was revoked): the next owner starts from the log.
    if (!this.active) return;
    // Records come back (the log still has them); local requests were answered as failed.
    this.putBack(batch.filter((e) => 'record' in e));
    this.state = 'restarting';
    // Rejoining takes the group a moment (a new coordinator, a session to time out).
    await sleep(membership ? MEMBERSHIP_BACKOFF_MS : Math.min(100 * 2 ** this.failures, 5000));
    if (this.state !== 'restarting') return;
    this.started = this.open();
    await this.started;
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushDue = true;
      this.kick();
    }, FLUSH_AFTER_MS);
    this.flushTimer.unref();
  }

  /** Commits offsets left by batches that appended nothing, in a transaction of their own. */
  private async flushOffsets(): Promise<void> {
    this.flushDue = false;
    const unsent = this.unsent;
    const producer = this.producer;
    if (!unsent || !producer) return;
    try {
      await producer.transaction((tx) => tx.sendOffsets(this.options.consumer, [unsent]));
      if (this.unsent === unsent) this.unsent = undefined;
    } catch (err) {
      this.options.logger.warn(
        { err, topic: this.partition.topic, partition: this.partition.partition },
        'could not commit offsets; a later transaction carries them',
      );
    }
  }

  /**
   * Stops for good (the partition was revoked): the current batch ends (or, after `waitMs`, its
   * producer is closed under it), queued requests are refused.
   */
  async stop(waitMs = STOP_WAIT_MS): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.draining?.catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.recordsQueued = 0;
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
