import type { Consumer } from 'kafkajs';
import type { Logger } from '../lib/logger';
import { SagaOwner, type SagaOwnerOptions } from './saga-owner';

/**
 * The saga's consumer group on the order events: each member owns some partitions and runs a
 * SagaOwner per partition; a timer sweeps deadlines on every owned partition.
 */
export class SagaProcessor {
  private readonly consumer: Consumer;
  private readonly owners = new Map<number, Promise<SagaOwner>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: SagaOwnerOptions & {
      sessionTimeoutMs: number;
      sweepEveryMs: number;
      logger: Logger;
    },
  ) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      maxWaitTimeInMs: 50,
      readUncommitted: false,
    });
  }

  async start(): Promise<void> {
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(payload.memberAssignment[this.options.ordersTopic] ?? []);
      for (const [partition, owner] of this.owners) {
        if (assigned.has(partition)) continue;
        this.owners.delete(partition);
        owner.then((o) => o.stop()).catch(() => undefined);
      }
      for (const partition of assigned) {
        this.ownerFor(partition, async () => undefined).catch((err: unknown) =>
          this.options.logger.error({ err, partition }, 'saga owner failed to start'),
        );
      }
    });
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.ordersTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false, // offsets commit inside each owner's transaction
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const owner = await this.ownerFor(batch.partition, heartbeat);
        if (!isRunning() || isStale()) return;
        const last = batch.messages.at(-1)?.offset as string;
        await owner.handle(batch.messages, last);
        resolveOffset(last);
        await heartbeat();
      },
    });
    this.timer = setInterval(() => void this.sweep(), this.options.sweepEveryMs);
  }

  private async committedOffset(partition: number): Promise<bigint | undefined> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({
        groupId: this.options.groupId,
        topics: [this.options.ordersTopic],
      });
      const offset = topic?.partitions.find((p) => p.partition === partition)?.offset;
      return offset === undefined || offset === '-1' ? undefined : BigInt(offset);
    } finally {
      await admin.disconnect();
    }
  }

  private ownerFor(partition: number, heartbeat: () => Promise<void>): Promise<SagaOwner> {
    let owner = this.owners.get(partition);
    if (!owner) {
      const created = new SagaOwner(partition, this.options);
      owner = this.committedOffset(partition)
        .then((committed) => created.start(committed, heartbeat))
        .then(() => created);
      owner.catch(() => this.owners.delete(partition));
      this.owners.set(partition, owner);
    }
    return owner;
  }

  private async sweep(): Promise<void> {
    for (const owner of this.owners.values()) {
      try {
        await (await owner).sweepDeadlines();
      } catch (err) {
        this.options.logger.warn({ err }, 'deadline sweep failed; next sweep retries');
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.consumer.disconnect();
    const owners = await Promise.allSettled(this.owners.values());
    this.owners.clear();
    await Promise.all(owners.map((o) => (o.status === 'fulfilled' ? o.value.stop() : undefined)));
  }
}
