import type { Consumer, Kafka } from 'kafkajs';
import type { Message } from '../../domain/decider';
import type { Logger } from '../../lib/logger';
import type { AggregateKind } from './aggregate-kind';
import { type OwnerOptions, PartitionOwner } from './partition-owner';

export interface CommandProcessorOptions {
  kafka: Kafka;
  logger: Logger;
  kinds: AggregateKind<Message, Message, unknown>[];
  /** The consumer group whose members split the commands partitions between them. */
  groupId: string;
  transactionalIdPrefix: string;
  partitions: number;
  sessionTimeoutMs: number;
  maxCommandsPerTransaction: number;
  maxRememberedCommands: number;
}

/**
 * Owns the commands partitions this process is assigned (DESIGN §4): a consumer group on the
 * commands topics decides who owns what; each owned partition gets a PartitionOwner, rebuilt
 * from the log before its first command. Partitions are handled concurrently, each strictly
 * in order.
 */
export class CommandProcessor {
  private readonly consumer: Consumer;
  private readonly owners = new Map<string, Promise<PartitionOwner<unknown>>>();
  private readonly byTopic: Map<string, AggregateKind<Message, Message, unknown>>;

  constructor(private readonly options: CommandProcessorOptions) {
    this.byTopic = new Map(options.kinds.map((kind) => [kind.topics.commands, kind]));
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
      void this.onAssignment(payload.memberAssignment);
    });
    await consumer.connect();
    for (const topic of this.byTopic.keys())
      await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false, // offsets commit inside each owner's transaction
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitions * this.options.kinds.length,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        const owner = await this.ownerFor(batch.topic, batch.partition, heartbeat);
        if (!isRunning() || isStale()) return;
        await owner.handle(batch.topic, batch.messages, async (offset) => {
          resolveOffset(offset);
          await heartbeat();
        });
      },
    });
  }

  private ownerKey(topic: string, partition: number): string {
    return `${topic}#${partition}`;
  }

  private ownerFor(
    topic: string,
    partition: number,
    heartbeat: () => Promise<void>,
  ): Promise<PartitionOwner<unknown>> {
    const key = this.ownerKey(topic, partition);
    let owner = this.owners.get(key);
    if (!owner) {
      const kind = this.byTopic.get(topic);
      if (!kind) throw new Error(`no aggregate kind consumes ${topic}`);
      const ownerOptions: OwnerOptions = { ...this.options, consumerGroupId: this.options.groupId };
      const created = new PartitionOwner(kind, partition, ownerOptions);
      owner = created.start(heartbeat).then(() => created);
      // A failed start is retried by the next batch, with a fresh owner.
      owner.catch(() => this.owners.delete(key));
      this.owners.set(key, owner);
    }
    return owner;
  }

  /** Starts owners for new partitions at once (replay before the first command), stops revoked ones. */
  private async onAssignment(assignment: Record<string, number[]>): Promise<void> {
    const assigned = new Set(
      Object.entries(assignment).flatMap(([topic, partitions]) =>
        partitions.map((p) => this.ownerKey(topic, p)),
      ),
    );
    this.options.logger.info({ assignment }, 'command partitions assigned');
    for (const [key, owner] of this.owners) {
      if (assigned.has(key)) continue;
      this.owners.delete(key);
      owner.then((o) => o.stop()).catch(() => undefined);
    }
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        this.ownerFor(topic, partition, async () => undefined).catch((err: unknown) =>
          this.options.logger.error({ err, topic, partition }, 'partition owner failed to start'),
        );
      }
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    const owners = await Promise.allSettled(this.owners.values());
    this.owners.clear();
    await Promise.all(owners.map((o) => (o.status === 'fulfilled' ? o.value.stop() : undefined)));
  }
}
