import {
  type GroupConsumer,
  type KafkaClient,
  partitionKey,
  type TopicPartition,
} from '../kafka/index';
import type { Logger } from '../logger';
import { kafkaGroupLag } from '../metrics/consumer-lag';
import { ConsumerStall } from '../metrics/consumer-stall';
import { PartitionLoop, PartitionMovedError } from './partition-loop';
import type { OwnedPartition, PartitionWork } from './partition-work';

export interface OwnedPartitionsOptions<Local> {
  kafka: KafkaClient;
  logger: Logger;
  /** What the owners are, in log lines (e.g. `command` → "command partitions assigned"). */
  name: string;
  /** The consumer group whose members split the partitions of `topics` between them. */
  groupId: string;
  topics: string[];
  sessionTimeoutMs: number;
  /** The transactional id of a partition's producer: the same for every owner of it. */
  transactionalId: (partition: TopicPartition) => string;
  /** The logic of one owned partition. */
  work: (partition: TopicPartition) => PartitionWork<Local>;
  /** Most entries per transaction. */
  maxBatch: number;
  /** Records queued per partition before its fetching pauses. */
  maxQueued?: number;
  /**
   * Records waiting and not one committed offset of the group moving for this long: the
   * consumer has stalled and is replaced by a new one (0 or absent: never looked for). Only for
   * groups whose records are all worked on at once (not the delayed saga retries).
   */
  stallMs?: number;
}

/** Most time between two looks at the group's lag for a stall (less for a short stall time). */
const STALL_CHECK_MS = 5000;

/**
 * The owned-partition runtime (DESIGN §4, §6): a consumer group decides which partitions this
 * process owns; each gets a PartitionLoop (fence → rebuild → batch → transaction) that also
 * takes local requests, such as commands from this process's HTTP handlers.
 */
export class OwnedPartitions<Local> {
  private consumer: GroupConsumer;
  private readonly loops = new Map<string, PartitionLoop<Local>>();
  /** Owners of revoked partitions still stopping (a rebalance does not wait for them). */
  private readonly stopping = new Set<Promise<void>>();
  private crash: Error | undefined;
  private stallWatch: { timer: NodeJS.Timeout; closeAdmin: () => Promise<void> } | undefined;
  private replacing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OwnedPartitionsOptions<Local>) {
    this.consumer = this.newConsumer();
  }

  private newConsumer(): GroupConsumer {
    return this.options.kafka.groupConsumer({
      groupId: this.options.groupId,
      topics: this.options.topics,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
    });
  }

  async start(): Promise<void> {
    await this.startConsumer();
    const stallMs = this.options.stallMs ?? 0;
    if (stallMs > 0) this.watchForStall(stallMs);
  }

  private async startConsumer(): Promise<void> {
    await this.consumer.start({
      onAssigned: (partitions) => {
        for (const p of partitions) this.own(p);
        this.logAssignment();
      },
      onRevoked: async (partitions) => {
        await Promise.all(partitions.map((p) => this.release(p)));
        this.logAssignment();
      },
      onBatch: async (batch) => {
        const last = batch.records.length - 1;
        this.loops
          .get(partitionKey(batch))
          ?.push(
            batch.records.map((record, i) =>
              i === last && batch.nextOffset !== undefined
                ? { record, next: batch.nextOffset }
                : { record },
            ),
          );
      },
      onCrash: (error) => {
        this.crash = error;
        this.options.logger.error({ err: error, group: this.options.groupId }, 'consumer crashed');
      },
    });
  }

  /**
   * Looks at the group's lag every few seconds: records arrived and no committed offset moved
   * for `stallMs` since (lib/metrics/consumer-stall.ts), its consumer stopped without a word (as a librdkafka client did after a paused
   * broker) and is replaced. Owners commit offsets with every transaction, so a live one moves.
   */
  private watchForStall(stallMs: number): void {
    const stall = new ConsumerStall(stallMs);
    const lag = kafkaGroupLag(this.options.groupId, this.options.topics);
    const admin = this.options.kafka.admin();
    let looking = false;
    const timer = setInterval(
      () => {
        if (looking || this.replacing || this.crash || this.stopped) return;
        looking = true;
        lag
          .lag(admin)
          .then((rows) => {
            const found = stall.observe(rows, Date.now());
            if (!found || this.stopped) return;
            stall.reset();
            this.options.logger.warn(
              { group: this.options.groupId, lag: String(found.lag), stalledForMs: found.forMs },
              `${this.options.name} consumer stalled; replacing it`,
            );
            this.replacing = this.replaceConsumer().finally(() => {
              this.replacing = undefined;
            });
          })
          // Not measurable just now (Kafka away): no verdict.
          .catch(() => undefined)
          .finally(() => {
            looking = false;
          });
      },
      Math.min(STALL_CHECK_MS, stallMs / 4),
    );
    timer.unref();
    this.stallWatch = { timer, closeAdmin: () => admin.close() };
  }

  /** Closes the consumer and its owners, then joins the group again with a new one. */
  private async replaceConsumer(): Promise<void> {
    await this.consumer.close().catch(() => undefined);
    await this.releaseAll();
    if (this.stopped) return;
    this.consumer = this.newConsumer();
    try {
      await this.startConsumer();
    } catch (err) {
      this.crash = err instanceof Error ? err : new Error(String(err));
      this.options.logger.error({ err, group: this.options.groupId }, 'consumer crashed');
    }
  }

  /** Every partition owned now, by topic (after each change of the assignment). */
  private logAssignment(): void {
    const assignment: Record<string, number[]> = {};
    for (const { topic, partition } of this.owned()) {
      assignment[topic] = [...(assignment[topic] ?? []), partition];
    }
    for (const list of Object.values(assignment)) list.sort((a, b) => a - b);
    this.options.logger.info(
      { group: this.options.groupId, assignment },
      `${this.options.name} partitions assigned`,
    );
  }

  private own(p: TopicPartition): void {
    const key = partitionKey(p);
    if (this.loops.get(key)?.active) return;
    const partition: OwnedPartition = {
      topic: p.topic,
      partition: p.partition,
      transactionalId: this.options.transactionalId(p),
    };
    this.loops.set(
      key,
      new PartitionLoop(partition, this.options.work(p), {
        kafka: this.options.kafka,
        consumer: this.consumer,
        logger: this.options.logger,
        maxBatch: this.options.maxBatch,
        maxQueued: this.options.maxQueued ?? 5000,
      }),
    );
  }

  private async release(p: TopicPartition): Promise<void> {
    const key = partitionKey(p);
    const loop = this.loops.get(key);
    this.loops.delete(key);
    if (!loop) return;
    const stopped = loop.stop();
    this.stopping.add(stopped);
    try {
      await stopped;
    } finally {
      this.stopping.delete(stopped);
    }
  }

  /** Whether this process owns `partition` now (its owner may still be rebuilding). */
  owns(partition: TopicPartition): boolean {
    return this.loops.get(partitionKey(partition))?.active === true;
  }

  /**
   * Hands `local` to the owner of `partition` in this process; throws PartitionMovedError
   * when this process does not own it.
   */
  submit(partition: TopicPartition, local: Local): void {
    const loop = this.loops.get(partitionKey(partition));
    if (!loop?.active) throw new PartitionMovedError('this process does not own the partition');
    loop.push([{ local }]);
  }

  /** Local work for every owned partition (e.g. a periodic deadline sweep). */
  broadcast(make: (partition: TopicPartition) => Local): void {
    for (const loop of this.loops.values())
      if (loop.active) loop.push([{ local: make(loop.partition) }]);
  }

  /** Partitions owned here, ready or still rebuilding. */
  owned(): TopicPartition[] {
    return [...this.loops.values()]
      .filter((l) => l.active)
      .map((l) => ({ topic: l.partition.topic, partition: l.partition.partition }));
  }

  /** The consumer's fatal error, if it crashed (readiness reports it). */
  get crashed(): Error | undefined {
    return this.crash;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.stallWatch) clearInterval(this.stallWatch.timer);
    await this.replacing;
    await this.consumer.close().catch(() => undefined);
    await this.releaseAll();
    await this.stallWatch?.closeAdmin().catch(() => undefined);
  }

  private async releaseAll(): Promise<void> {
    await Promise.all(
      [...this.loops.keys()].map((key) => {
        const at = key.lastIndexOf('#');
        return this.release({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)) });
      }),
    );
    await Promise.all(this.stopping);
  }
}
