import {
  type GroupConsumer,
  type KafkaClient,
  partitionKey,
  type TopicPartition,
} from '../kafka/index';
import type { Logger } from '../logger';
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
}

/**
 * The owned-partition runtime (DESIGN §4, §6): a consumer group decides which partitions this
 * process owns; each gets a PartitionLoop (fence → rebuild → batch → transaction) that also
 * takes local requests, such as commands from this process's HTTP handlers.
 */
export class OwnedPartitions<Local> {
  private readonly consumer: GroupConsumer;
  private readonly loops = new Map<string, PartitionLoop<Local>>();
  /** Owners of revoked partitions still stopping (a rebalance does not wait for them). */
  private readonly stopping = new Set<Promise<void>>();
  private crash: Error | undefined;

  constructor(private readonly options: OwnedPartitionsOptions<Local>) {
    this.consumer = options.kafka.groupConsumer({
      groupId: options.groupId,
      topics: options.topics,
      sessionTimeoutMs: options.sessionTimeoutMs,
    });
  }

  async start(): Promise<void> {
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
        this.loops.get(partitionKey(batch))?.push(batch.records.map((record) => ({ record })));
      },
      onCrash: (error) => {
        this.crash = error;
        this.options.logger.error({ err: error, group: this.options.groupId }, 'consumer crashed');
      },
    });
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
    await this.consumer.close().catch(() => undefined);
    await Promise.all(
      [...this.loops.keys()].map((key) => {
        const at = key.lastIndexOf('#');
        return this.release({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)) });
      }),
    );
    await Promise.all(this.stopping);
  }
}
