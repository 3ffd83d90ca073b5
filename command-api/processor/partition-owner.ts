import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Message, Rejection } from '../../domain/decider';
import { inTransaction, type Transaction } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import {
  decodeCommand,
  decodeEvent,
  encodeCommand,
  encodeEvent,
  uuidv7,
} from '../../schemas/codec';
import type { AggregateKind, FollowUpCommand } from './aggregate-kind';
import { COMMAND_HEADERS, headerValue } from './command-headers';
import { PartitionState, PendingChanges } from './partition-state';
import { partitionOf } from './partitioning';
import { replayPartitions } from './replay';
import { type CommandReply, decodeReply, encodeReply } from './reply';

export interface OwnerOptions {
  kafka: Kafka;
  logger: Logger;
  /** Consumer group of the commands topics (offsets commit inside each transaction). */
  consumerGroupId: string;
  /** transactional.id prefix; the partition makes it unique per owned partition. */
  transactionalIdPrefix: string;
  partitions: number;
  maxCommandsPerTransaction: number;
  maxRememberedCommands: number;
}

interface CommandContext {
  commandId: string;
  correlationId: string;
  actor: string;
  requestHash: string;
}

interface DecidedEvent {
  aggregateId: string;
  event: Message;
  version: number;
  eventId: string;
}

/** One command's outcome and the events it appends (none when rejected or repeated). */
interface DecidedCommand {
  context: CommandContext;
  reply: CommandReply;
  events: DecidedEvent[];
  followUps?: FollowUpCommand[];
}

/**
 * The single writer of one partition of one aggregate kind. Holds the partition's aggregates
 * in memory, rebuilt from its events (and its recent command outcomes from its replies)
 * before it handles any command; appends events, replies and consumed offsets in one Kafka
 * transaction. Its transactional id is derived from the partition, so a newer owner fences
 * an older one that has not noticed it lost the partition.
 */
export class PartitionOwner<S> {
  private readonly state: PartitionState<S>;
  private producer: Producer | undefined;

  constructor(
    private readonly kind: AggregateKind<Message, Message, S>,
    readonly partition: number,
    private readonly options: OwnerOptions,
  ) {
    this.state = new PartitionState(kind.decider.initialState, options.maxRememberedCommands);
  }

  /** Fences any previous owner, then replays the partition's events and replies. */
  async start(heartbeat: () => Promise<void>): Promise<void> {
    const started = Date.now();
    this.producer = this.options.kafka.producer({
      transactionalId: `${this.options.transactionalIdPrefix}.${this.kind.name}.${this.partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.producer.connect();
    // Beginning a transaction registers our transactional id: the previous owner's producer is
    // fenced and its open transaction aborted, so the log's end is now final for us.
    await (await this.producer.transaction()).abort();

    const { events, replies } = this.kind.topics;
    const count = await replayPartitions(
      this.options.kafka,
      this.options.consumerGroupId,
      [
        { topic: events, partition: this.partition },
        { topic: replies, partition: this.partition },
      ],
      ({ topic }, message) =>
        topic === events
          ? this.replayEvent(message)
          : this.state.remember(decodeReply(message.value)),
      heartbeat,
    );
    this.options.logger.info(
      {
        aggregate: this.kind.name,
        partition: this.partition,
        replayed: count,
        aggregates: this.state.aggregateCount,
        ms: Date.now() - started,
      },
      'partition owner ready',
    );
  }

  private replayEvent(message: KafkaMessage): void {
    const { event, meta } = decodeEvent(message);
    const entry = this.state.aggregate(meta.aggregateId);
    this.state.setAggregate(meta.aggregateId, {
      state: this.kind.decider.evolve(entry.state, event),
      version: meta.aggregateVersion,
    });
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }

  /**
   * Decides `messages` (consecutive commands of this partition) in order and commits their
   * effects in transactions of up to maxCommandsPerTransaction commands; `committed(offset)`
   * is told after each transaction.
   */
  async handle(
    commandsTopic: string,
    messages: KafkaMessage[],
    committed: (offset: string) => Promise<void>,
  ): Promise<void> {
    const size = this.options.maxCommandsPerTransaction;
    for (let i = 0; i < messages.length; i += size) {
      const chunk = messages.slice(i, i + size);
      const lastOffset = (chunk.at(-1) as KafkaMessage).offset;
      await this.commitChunk(commandsTopic, chunk, lastOffset);
      await committed(lastOffset);
    }
  }

  private async commitChunk(
    commandsTopic: string,
    chunk: KafkaMessage[],
    lastOffset: string,
  ): Promise<void> {
    const producer = this.producer;
    if (!producer)
      throw new Error(`owner of ${this.kind.name} partition ${this.partition} is stopped`);
    const pending = new PendingChanges(this.state);
    const decided = chunk.map((message) => this.decideOne(message, pending));

    await inTransaction(producer, async (tx) => {
      await this.appendEvents(tx, decided);
      await tx.send({
        topic: this.kind.topics.replies,
        messages: decided.map(({ reply }) => ({
          key: reply.aggregateId,
          partition: this.partition,
          value: encodeReply(reply),
        })),
      });
      await this.sendFollowUps(tx, decided);
      await tx.sendOffsets({
        consumerGroupId: this.options.consumerGroupId,
        topics: [
          {
            topic: commandsTopic,
            partitions: [{ partition: this.partition, offset: String(BigInt(lastOffset) + 1n) }],
          },
        ],
      });
    });
    pending.applyTo(this.state);
  }

  private async sendFollowUps(tx: Transaction, decided: DecidedCommand[]): Promise<void> {
    const issuedAt = new Date().toISOString();
    const byTopic = new Map<
      string,
      { key: string; value: Buffer; headers: Record<string, string> }[]
    >();
    for (const { context, followUps } of decided) {
      for (const f of followUps ?? []) {
        const { value, headers } = encodeCommand(f.command, {
          commandId: f.commandId,
          correlationId: context.correlationId,
          actor: `service:${this.kind.name}-owner`,
          issuedAt,
        });
        const messages = byTopic.get(f.topic) ?? [];
        messages.push({
          key: f.aggregateId,
          value,
          headers: { ...headers, [COMMAND_HEADERS.requestHash]: f.commandId },
        });
        byTopic.set(f.topic, messages);
      }
    }
    for (const [topic, messages] of byTopic) await tx.send({ topic, messages });
  }

  /** Appends every decided event and writes each one's log position into its reply. */
  private async appendEvents(tx: Transaction, decided: DecidedCommand[]): Promise<void> {
    const occurredAt = new Date().toISOString();
    const outgoing = decided.flatMap(({ context, events }) =>
      events.map((event) => ({ context, event })),
    );
    if (outgoing.length === 0) return;
    const topic = this.kind.topics.events;
    const [written] = await tx.send({
      topic,
      messages: outgoing.map(({ context, event }) => {
        const { value, headers } = encodeEvent(event.event, {
          eventId: event.eventId,
          aggregateId: event.aggregateId,
          aggregateVersion: event.version,
          commandId: context.commandId,
          correlationId: context.correlationId,
          causationId: context.commandId,
          occurredAt,
          actor: context.actor,
        });
        return { key: event.aggregateId, partition: this.partition, value, headers };
      }),
    });
    // One send to one partition appends one batch: consecutive offsets from its base offset.
    let offset = BigInt(written?.baseOffset ?? '0');
    for (const { reply, events } of decided) {
      if (reply.outcome.status !== 'accepted') continue;
      for (let i = 0; i < events.length; i += 1) {
        const appended = reply.outcome.events[i];
        if (appended)
          appended.position = { topic, partition: this.partition, offset: String(offset) };
        offset += 1n;
      }
    }
  }

  private decideOne(message: KafkaMessage, pending: PendingChanges<S>): DecidedCommand {
    const requestHash = headerValue(message.headers, COMMAND_HEADERS.requestHash) ?? '';
    let decoded: ReturnType<typeof decodeCommand>;
    try {
      decoded = decodeCommand(message);
    } catch (err) {
      // A poison command is refused, not retried forever: the partition must go on.
      this.options.logger.warn(
        { err, partition: this.partition, offset: message.offset },
        'undecodable command',
      );
      const context = {
        commandId: headerValue(message.headers, 'command-id') ?? `offset-${message.offset}`,
        correlationId: '',
        actor: '',
        requestHash,
      };
      return this.rejected(context, 'unknown', String(message.key ?? ''), {
        kind: 'invalid',
        code: 'undecodable_command',
        reason: err instanceof Error ? err.message : String(err),
      });
    }
    const { command, meta } = decoded;
    const context = {
      commandId: meta.commandId,
      correlationId: meta.correlationId,
      actor: meta.actor,
      requestHash,
    };
    const aggregateId = this.kind.aggregateId(command);

    const earlier = pending.outcome(meta.commandId);
    if (earlier) {
      if (earlier.requestHash === requestHash) return { context, reply: earlier, events: [] };
      // Not remembered: the original outcome stays the answer for the original request.
      return this.rejected(context, command.type, aggregateId, {
        kind: 'invalid',
        code: 'idempotency_key_reused',
        reason: 'this Idempotency-Key was already used for a different request',
      });
    }

    let result: DecidedCommand;
    if (partitionOf(aggregateId, this.options.partitions) !== this.partition) {
      result = this.rejected(context, command.type, aggregateId, {
        kind: 'invalid',
        code: 'wrong_partition',
        reason: `aggregate ${aggregateId} does not belong to partition ${this.partition}: key commands by aggregate id with the default partitioner`,
      });
    } else {
      result = this.decide(context, command, aggregateId, pending);
      result.followUps = this.kind.followUps?.(command, result.reply, message.headers) ?? [];
    }
    pending.remember(result.reply);
    return result;
  }

  private decide(
    context: CommandContext,
    command: Message,
    aggregateId: string,
    pending: PendingChanges<S>,
  ): DecidedCommand {
    const entry = pending.aggregate(aggregateId);
    const decision = this.kind.decider.decide(command, entry.state);
    if (!decision.ok) return this.rejected(context, command.type, aggregateId, decision.rejection);
    let { state, version } = entry;
    const events = decision.events.map((event) => {
      state = this.kind.decider.evolve(state, event);
      version += 1;
      return { aggregateId, event, version, eventId: uuidv7() };
    });
    pending.setAggregate(aggregateId, { state, version });
    return {
      context,
      events,
      reply: {
        commandId: context.commandId,
        commandType: command.type,
        aggregateId,
        actor: context.actor,
        requestHash: context.requestHash,
        decidedAt: new Date().toISOString(),
        outcome: {
          status: 'accepted',
          events: events.map((e) => {
            const { type, ...data } = e.event as Message & Record<string, unknown>;
            return {
              type,
              eventId: e.eventId,
              aggregateVersion: e.version,
              data,
              // Filled in once the events are appended.
              position: { topic: this.kind.topics.events, partition: this.partition, offset: '0' },
            };
          }),
        },
      },
    };
  }

  private rejected(
    context: CommandContext,
    commandType: string,
    aggregateId: string,
    rejection: Rejection,
  ): DecidedCommand {
    return {
      context,
      events: [],
      reply: {
        commandId: context.commandId,
        commandType,
        aggregateId,
        actor: context.actor,
        requestHash: context.requestHash,
        decidedAt: new Date().toISOString(),
        outcome: { status: 'rejected', rejection },
      },
    };
  }
}
