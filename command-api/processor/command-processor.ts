import type { Message } from '../../domain/decider';
import { type KafkaClient, partitionOf, type TopicPartition } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { OwnedPartitions } from '../../lib/owned-partitions/owned-partitions';
import type { AggregateKind } from './aggregate-kind';
import { CommandOwner, type LocalCommand } from './command-owner';

export interface CommandProcessorOptions {
  kafka: KafkaClient;
  logger: Logger;
  kinds: AggregateKind<Message, Message, unknown>[];
  /** The consumer group whose members split the commands partitions between them. */
  groupId: string;
  transactionalIdPrefix: string;
  partitions: number;
  sessionTimeoutMs: number;
  maxCommandsPerTransaction: number;
  maxRememberedCommands: number;
  snapshotEveryEvents: number;
  /** A consumer behind and stalled this long is replaced (CONSUMER_STALL_MS; 0: never). */
  stallMs?: number;
}

/**
 * Owns the commands partitions this process is assigned (DESIGN §4): a consumer group on the
 * commands topics decides who owns what; each owned partition is a CommandOwner run by the
 * owned-partition runtime. Commands for a partition owned here can be handed over directly
 * (`submit`), without the trip through the commands topic.
 */
export class CommandProcessor {
  private readonly owned: OwnedPartitions<LocalCommand>;
  private readonly byTopic: Map<string, AggregateKind<Message, Message, unknown>>;

  constructor(private readonly options: CommandProcessorOptions) {
    this.byTopic = new Map(options.kinds.map((kind) => [kind.topics.commands, kind]));
    this.owned = new OwnedPartitions<LocalCommand>({
      kafka: options.kafka,
      logger: options.logger,
      name: 'command',
      groupId: options.groupId,
      topics: [...this.byTopic.keys()],
      sessionTimeoutMs: options.sessionTimeoutMs,
      maxBatch: options.maxCommandsPerTransaction,
      stallMs: options.stallMs,
      transactionalId: (p) =>
        `${options.transactionalIdPrefix}.${this.kindOf(p).name}.${p.partition}`,
      work: (p) =>
        new CommandOwner({
          kafka: options.kafka,
          logger: options.logger,
          kind: this.kindOf(p),
          partition: p.partition,
          partitions: options.partitions,
          maxRememberedCommands: options.maxRememberedCommands,
          snapshotEveryEvents: options.snapshotEveryEvents,
        }),
    });
  }

  private kindOf(p: TopicPartition): AggregateKind<Message, Message, unknown> {
    const kind = this.byTopic.get(p.topic);
    if (!kind) throw new Error(`no aggregate kind consumes ${p.topic}`);
    return kind;
  }

  start(): Promise<void> {
    return this.owned.start();
  }

  /** The commands partition an aggregate's commands go to. */
  partitionFor(
    kind: AggregateKind<Message, Message, unknown>,
    aggregateId: string,
  ): TopicPartition {
    return {
      topic: kind.topics.commands,
      partition: partitionOf(aggregateId, this.options.partitions),
    };
  }

  /** Whether this process owns the partition of `aggregateId`'s commands. */
  owns(kind: AggregateKind<Message, Message, unknown>, aggregateId: string): boolean {
    return this.owned.owns(this.partitionFor(kind, aggregateId));
  }

  /** Hands a command to its owner in this process (throws PartitionMovedError if not owned here). */
  submit(
    kind: AggregateKind<Message, Message, unknown>,
    aggregateId: string,
    command: LocalCommand,
  ): void {
    this.owned.submit(this.partitionFor(kind, aggregateId), command);
  }

  get crashed(): Error | undefined {
    return this.owned.crashed;
  }

  stop(): Promise<void> {
    return this.owned.stop();
  }
}
