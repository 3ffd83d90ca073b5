import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Message, Rejection } from '../../domain/decider';
import { inTransaction } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { decodeCommand, decodeEvent, uuidv7 } from '../../schemas/codec';
import type { AggregateKind, KeyHolding } from './aggregate-kind';
import { COMMAND_HEADERS, headerValue } from './command-headers';
import {
  acceptedReply,
  type CommandContext,
  type DecidedCommand,
  encodeEvents,
  encodeFollowUps,
  type NewEvent,
  rejectedCommand,
} from './decided-command';
import { PartitionState, PendingChanges } from './partition-state';
import { partitionOf } from './partitioning';
import { replayPartitions } from './replay';
import { decodeReply, encodeReply, IDEMPOTENCY_KEY_REUSED } from './reply';
import { isContentFault } from './transaction-faults';

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

const invalid = (code: string, reason: string): Rejection => ({ kind: 'invalid', code, reason });

/**
 * The single writer of one partition of one aggregate kind. Holds the partition's aggregates
 * in memory, rebuilt from its events (and its recent command outcomes from its replies)
 * before it handles any command; appends events, replies and consumed offsets in one Kafka
 * transaction. Its transactional id is derived from the partition, so a newer owner fences
 * an older one that has not noticed it lost the partition.
 *
 * Whatever one command does (an exception while deciding or encoding it, a record the broker
 * refuses) ends as that command's rejection: the partition's later commands go on.
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
        topic === events ? this.replayEvent(message) : this.replayReply(message),
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
    const holding = this.kind.uniqueKey?.change(event, entry.state);
    if (holding) this.state.applyHolding(holding);
    this.state.setAggregate(meta.aggregateId, {
      state: this.kind.decider.evolve(entry.state, event),
      version: meta.aggregateVersion,
    });
  }

  private replayReply(message: KafkaMessage): void {
    try {
      this.state.remember(decodeReply(message.value));
    } catch (err) {
      // Only idempotency memory is lost: the command is decided again if repeated.
      this.options.logger.warn(
        { err, partition: this.partition, offset: message.offset },
        'unreadable command reply skipped',
      );
    }
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
      await this.commitChunk(commandsTopic, chunk);
      await committed(lastOffset);
    }
  }

  /**
   * Decides and commits `chunk` in one transaction. When the broker refuses what one of them
   * wrote, the chunk is committed again one command at a time (each decided anew against the
   * commands committed before it), and the one at fault is rejected alone.
   */
  private async commitChunk(commandsTopic: string, chunk: KafkaMessage[]): Promise<void> {
    const pending = new PendingChanges(this.state);
    const decided = chunk.map((message) => this.decideOne(message, pending));
    const lastOffset = (chunk.at(-1) as KafkaMessage).offset;
    try {
      await this.commit(commandsTopic, decided, lastOffset);
    } catch (err) {
      const where = { aggregate: this.kind.name, partition: this.partition, offset: lastOffset };
      if (!isContentFault(err)) {
        // Not about these commands: the batch is fetched and tried again (or the partition
        // moves to another owner). Loud, so a lasting failure is seen.
        this.options.logger.error({ err, ...where }, 'command transaction failed; will retry');
        throw err;
      }
      if (chunk.length > 1) {
        this.options.logger.warn({ err, ...where }, 'transaction refused; committing one by one');
        for (const message of chunk) await this.commitChunk(commandsTopic, [message]);
        return;
      }
      this.options.logger.error({ err, ...where }, 'command could not be appended; rejected');
      const [only] = decided as [DecidedCommand];
      const refused = rejectedCommand(
        only.context,
        only.reply.commandType,
        only.reply.aggregateId,
        invalid(
          'append_failed',
          `${only.reply.commandType} could not be appended (a fault, logged by its owner); nothing changed`,
        ),
      );
      await this.commit(commandsTopic, [refused], lastOffset);
      this.state.remember(refused.reply);
      return;
    }
    pending.applyTo(this.state);
  }

  /** One transaction: the events, the replies, the follow-up commands and the consumed offset. */
  private async commit(
    commandsTopic: string,
    decided: DecidedCommand[],
    lastOffset: string,
  ): Promise<void> {
    const producer = this.producer;
    if (!producer)
      throw new Error(`owner of ${this.kind.name} partition ${this.partition} is stopped`);
    await inTransaction(producer, async (tx) => {
      await this.appendEvents(decided, (messages) =>
        tx.send({ topic: this.kind.topics.events, messages }),
      );
      await tx.send({
        topic: this.kind.topics.replies,
        messages: decided.map(({ reply }) => ({
          key: reply.aggregateId,
          partition: this.partition,
          value: encodeReply(reply),
        })),
      });
      const followUps = decided.flatMap((d) => d.followUps);
      for (const topic of new Set(followUps.map((f) => f.topic))) {
        const messages = followUps.filter((f) => f.topic === topic).map((f) => f.message);
        await tx.send({ topic, messages });
      }
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
  }

  /** Appends every decided event and writes each one's log position into its reply. */
  private async appendEvents(
    decided: DecidedCommand[],
    send: (
      messages: (DecidedCommand['events'][number] & { partition: number })[],
    ) => Promise<{ baseOffset?: string }[]>,
  ): Promise<void> {
    const outgoing = decided.flatMap(({ events }) =>
      events.map((e) => ({ ...e, partition: this.partition })),
    );
    if (outgoing.length === 0) return;
    const [written] = await send(outgoing);
    // One send to one partition appends one batch: consecutive offsets from its base offset.
    let offset = BigInt(written?.baseOffset ?? '0');
    for (const { reply, events } of decided) {
      if (reply.outcome.status !== 'accepted') continue;
      for (let i = 0; i < events.length; i += 1) {
        const appended = reply.outcome.events[i];
        if (appended) appended.position = { ...appended.position, offset: String(offset) };
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
      return rejectedCommand(context, 'unknown', String(message.key ?? ''), {
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
      if (earlier.requestHash === requestHash) {
        return { context, reply: earlier, events: [], followUps: [] };
      }
      // Marked, so that neither this owner nor its successor replaying the replies, nor the
      // command API, ever takes it for the outcome: that stays the original request's answer.
      return rejectedCommand(
        context,
        command.type,
        aggregateId,
        invalid(
          IDEMPOTENCY_KEY_REUSED,
          'this Idempotency-Key was already used for a different request',
        ),
        true,
      );
    }

    let result: DecidedCommand;
    try {
      result = this.decideNew(context, command, message, pending);
    } catch (err) {
      // A fault of ours (a decider's exception, an event its schema refuses): this command is
      // refused and changes nothing; the partition goes on.
      this.options.logger.error(
        { err, aggregate: this.kind.name, partition: this.partition, offset: message.offset },
        'command could not be decided',
      );
      result = rejectedCommand(
        context,
        command.type,
        aggregateId,
        invalid(
          'command_failed',
          `${command.type} could not be decided (a fault, logged by its owner); nothing changed`,
        ),
      );
    }
    pending.remember(result.reply);
    return result;
  }

  /**
   * Decides a command not seen before and encodes what it writes; `pending` changes only once
   * everything is encoded, so an exception leaves it as it was.
   */
  private decideNew(
    context: CommandContext,
    command: Message,
    message: KafkaMessage,
    pending: PendingChanges<S>,
  ): DecidedCommand {
    const { decider, uniqueKey } = this.kind;
    const aggregateId = this.kind.aggregateId(command);
    const key = uniqueKey?.claimedBy(command);
    const misplaced =
      this.misplaced(aggregateId, 'aggregate') ??
      (uniqueKey && key !== undefined ? this.misplaced(key, uniqueKey.name) : undefined);
    // Sent to the wrong owner: refused before any rule, and nothing is sent on.
    if (misplaced) return rejectedCommand(context, command.type, aggregateId, misplaced);

    const entry = pending.aggregate(aggregateId);
    const decision = decider.decide(command, entry.state);
    const rejection = !decision.ok
      ? decision.rejection
      : uniqueKey && key !== undefined
        ? uniqueKey.refusal(key, aggregateId, [...pending.holdersOf(key)])
        : undefined;

    let { state, version } = entry;
    const holdings: KeyHolding[] = [];
    const events: NewEvent[] = [];
    for (const event of decision.ok && !rejection ? decision.events : []) {
      const holding = uniqueKey?.change(event, state);
      if (holding) holdings.push(holding);
      state = decider.evolve(state, event);
      version += 1;
      events.push({ aggregateId, event, version, eventId: uuidv7() });
    }
    const reply = rejection
      ? rejectedCommand(context, command.type, aggregateId, rejection).reply
      : acceptedReply(
          context,
          command.type,
          aggregateId,
          events,
          this.kind.topics.events,
          this.partition,
        );
    const followUps = this.kind.followUps?.(command, reply, message.headers) ?? [];
    const decided: DecidedCommand = {
      context,
      reply,
      events: encodeEvents(context, events),
      followUps: encodeFollowUps(context, followUps, this.kind.name),
    };
    if (!rejection) {
      pending.setAggregate(aggregateId, { state, version });
      for (const holding of holdings) pending.applyHolding(holding);
    }
    return decided;
  }

  /** The refusal of a key (an aggregate id, a unique key) that another partition owns. */
  private misplaced(key: string, what: string): Rejection | undefined {
    const owner = partitionOf(key, this.options.partitions);
    if (owner === this.partition) return undefined;
    return {
      kind: 'invalid',
      code: 'wrong_partition',
      reason: `${what} ${key} belongs to partition ${owner}, not ${this.partition}: key commands by aggregate id with the default partitioner${what === 'aggregate' ? '' : `, and give a new aggregate an id in its ${what}'s partition`}`,
    };
  }
}
