import type { Span } from '@opentelemetry/api';
import type { Message } from '../../domain/decider';
import type {
  ConsumedRecord,
  KafkaClient,
  OutgoingRecord,
  TopicPartitionOffset,
} from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { commandOutcomes } from '../../lib/metrics/registry';
import type { Decided, Entry, PartitionWork } from '../../lib/owned-partitions/partition-work';
import {
  contextWith,
  endSpan,
  startConsumerSpan,
  TRACERS,
  traceFieldsOf,
  traceHeadersOf,
} from '../../lib/telemetry/trace-context';
import { decodeCommand } from '../../schemas/codec';
import { type BatchCommand, decideBatch } from './decide-batch';
import type { DecideScope, IncomingCommand } from './decide-command';
import { type DecidedCommand, rejectedCommand, replyOf } from './decided-command';
import { PartitionState } from './partition-state';
import { rebuildPartition } from './rebuild-state';
import { type CommandReply, encodeReply } from './reply';
import { readLatestSnapshot, type SnapshotFormat, snapshotRecords } from './snapshots';

/** A command from this process's HTTP handlers, answered when its transaction commits. */
export interface LocalCommand extends IncomingCommand {
  answer(reply: CommandReply): void;
  /** Not decided (the owner failed or moved): the caller may retry with the same key. */
  fail(error: Error): void;
  /** Whether the sender still waits; if not, the outcome is also written as a reply record. */
  waiting(): boolean;
  /** Called as the command joins a batch: false if its sender withdrew it (overload), and then
   *  it is dropped undecided; once taken it can no longer be withdrawn. */
  take(): boolean;
}

export interface CommandOwnerOptions<S> extends DecideScope<S> {
  kafka: KafkaClient;
  logger: Logger;
  maxRememberedCommands: number;
  /** Events appended between snapshots of the state (0: no snapshots, full replays). */
  snapshotEveryEvents: number;
}

/** A consumed command decoded, or the reason it cannot be. */
function incoming(record: ConsumedRecord): (IncomingCommand & { replyRequired: boolean }) | Error {
  try {
    const { command, meta } = decodeCommand<Message>(record);
    return {
      command,
      replyRequired: meta.replyRequired === true,
      context: {
        commandId: meta.commandId,
        correlationId: meta.correlationId,
        actor: meta.actor,
        requestHash: meta.requestHash ?? '',
        ...traceFieldsOf(meta),
      },
    };
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * The single writer of one partition of one aggregate kind (DESIGN §4), as the owned-partition
 * runtime runs it: its aggregates in memory, rebuilt from the log; each batch of commands —
 * from the commands topic and from this process — decided in order and appended in one
 * transaction. A command's outcome is recorded by its events; a reply record is written only
 * when needed: a refusal, or an outcome its sender waits for elsewhere.
 */
export class CommandOwner<S> implements PartitionWork<LocalCommand> {
  private state: PartitionState<S>;
  /** Offsets after the last event and reply the state holds (a snapshot's starting points). */
  private eventsEnd = 0n;
  private repliesEnd = 0n;
  private eventsSinceSnapshot = 0n;

  constructor(private readonly options: CommandOwnerOptions<S>) {
    this.state = this.freshState();
  }

  private freshState(): PartitionState<S> {
    return new PartitionState(
      this.options.kind.decider.initialState,
      this.options.maxRememberedCommands,
      this.options.kind.stateJson,
    );
  }

  /** Aggregates the owner's state holds. */
  get aggregateCount(): number {
    return this.state.aggregateCount;
  }

  async rebuild(): Promise<void> {
    const started = Date.now();
    const { kind, partition, kafka, logger } = this.options;
    this.state = this.freshState();
    const snapshot =
      this.options.snapshotEveryEvents > 0
        ? await readLatestSnapshot(
            kafka,
            kind.topics.snapshots,
            partition,
            this.snapshotFormat(),
            logger,
          )
        : undefined;
    const rebuilt = await rebuildPartition(kafka, kind, partition, this.state, logger, snapshot);
    this.eventsEnd = rebuilt.eventsEnd;
    this.repliesEnd = rebuilt.repliesEnd;
    this.eventsSinceSnapshot = rebuilt.eventsEnd - (snapshot?.eventsEnd ?? 0n);
    logger.info(
      {
        aggregate: kind.name,
        partition,
        fromSnapshot: snapshot !== undefined,
        replayed: rebuilt.replayed,
        aggregates: this.state.aggregateCount,
        ms: Date.now() - started,
      },
      'partition owner ready',
    );
  }

  async decide(taken: Entry<LocalCommand>[]): Promise<Decided<LocalCommand>> {
    const entries = taken.filter((entry) => !('local' in entry) || entry.local.take());
    const onFault = (err: unknown) =>
      this.options.logger.error(
        { err, aggregate: this.options.kind.name, partition: this.options.partition },
        'command could not be decided',
      );
    const spans: Span[] = [];
    const commands = entries.map((entry) => this.traced(this.batchCommand(entry), spans));
    // A snapshot of the state as this batch finds it, in the batch's transaction.
    const snapshot = this.snapshotDue() ? await this.snapshotRecords() : [];
    const batch = decideBatch(this.options, this.state, commands, onFault);
    const refusals = batch.refusals.map((r) => this.replyRecord(r));
    return {
      // Snapshot records last: `positions` of the events and refusals keep their indexes.
      records: [...batch.events, ...refusals, ...snapshot],
      ...(batch.awaitedElsewhere && {
        followWith: (positions: TopicPartitionOffset[]) =>
          batch
            .replies(positions)
            .filter((r) => r.needsRecord && r.reply.outcome.status === 'accepted')
            .map((r) => this.replyRecord(r.reply)),
      }),
      committed: (positions) => {
        for (const { local, reply, decided } of batch.commit(this.state, positions)) {
          local?.answer(reply);
          const repeat = decided.repeat !== undefined || decided.repeatOf !== undefined;
          commandOutcomes.inc({
            type: reply.commandType,
            outcome: repeat ? 'repeat' : reply.outcome.status,
          });
        }
        this.advance(positions, batch.events.length, refusals.length, snapshot.length > 0);
        for (const span of spans) endSpan(span);
      },
      failed: (error) => {
        for (const { local } of commands) local?.fail(error);
        for (const span of spans) endSpan(span, error);
      },
    };
  }

  private snapshotFormat(): SnapshotFormat {
    const { kind } = this.options;
    return {
      kind: kind.name,
      stateVersion: kind.stateVersion,
      schemaFingerprints: kind.eventSchemaFingerprints(),
    };
  }

  private snapshotDue(): boolean {
    const every = this.options.snapshotEveryEvents;
    return every > 0 && this.eventsSinceSnapshot >= BigInt(every);
  }

  private snapshotRecords(): Promise<OutgoingRecord[]> {
    return snapshotRecords(
      this.options.kind.topics.snapshots,
      this.options.partition,
      this.snapshotFormat(),
      { eventsEnd: this.eventsEnd, repliesEnd: this.repliesEnd, ...this.state.contents() },
    );
  }

  /** After a commit: where the state now ends in the events and replies. */
  private advance(
    positions: TopicPartitionOffset[],
    events: number,
    refusals: number,
    snapshotted: boolean,
  ): void {
    const last = (from: number, count: number) => positions[from + count - 1]?.offset;
    const eventsAt = events > 0 ? last(0, events) : undefined;
    const before = this.eventsEnd;
    if (eventsAt !== undefined) this.eventsEnd = eventsAt + 1n;
    // The snapshot (if any) showed the state before this batch.
    this.eventsSinceSnapshot =
      (snapshotted ? 0n : this.eventsSinceSnapshot) + (this.eventsEnd - before);
    // Accepted outcomes' replies (followWith) come after the refusals: a later snapshot that
    // starts the replies here reads them again, which only re-remembers them.
    const refusalAt = refusals > 0 ? last(events, refusals) : undefined;
    if (refusalAt !== undefined) this.repliesEnd = refusalAt + 1n;
  }

  /**
   * A span for a command, from its decision to its transaction's end, continuing its sender's
   * trace; its events carry this span's context on (to the projectors and the saga).
   */
  private traced(batched: BatchCommand<LocalCommand>, spans: Span[]): BatchCommand<LocalCommand> {
    const { command } = batched;
    if ('refused' in command) return batched;
    const span = startConsumerSpan(
      TRACERS.commandApi,
      `decide ${command.command.type}`,
      command.context,
      {
        'orderstream.command_id': command.context.commandId,
        'orderstream.aggregate': this.options.kind.name,
        'messaging.destination.partition.id': this.options.partition,
        'orderstream.sent': batched.local ? 'in-process' : 'commands topic',
      },
    );
    spans.push(span);
    const context = { ...command.context, ...traceHeadersOf(contextWith(span)) };
    return { ...batched, command: { command: command.command, context } };
  }

  /** An entry as the pure step takes it: decoded, or refused when it cannot be. */
  private batchCommand(entry: Entry<LocalCommand>): BatchCommand<LocalCommand> {
    if ('local' in entry) {
      const { local } = entry;
      return { command: local, replyRequired: false, local, waiting: () => local.waiting() };
    }
    const command = incoming(entry.record);
    if (command instanceof Error) {
      // A poison command is refused, not retried for ever: the partition must go on.
      this.options.logger.warn(
        { err: command, partition: this.options.partition, offset: String(entry.record.offset) },
        'undecodable command',
      );
      return { command: { refused: this.undecodable(entry.record, command) }, replyRequired: true };
    }
    return { command, replyRequired: command.replyRequired };
  }

  private undecodable(record: ConsumedRecord, error: Error): DecidedCommand {
    const id = record.headers['command-id']?.toString();
    return rejectedCommand(
      {
        commandId: id || `offset-${record.offset}`,
        correlationId: '',
        actor: '',
        requestHash: record.headers['request-hash']?.toString() ?? '',
      },
      'unknown',
      record.key?.toString() ?? '',
      { kind: 'invalid', code: 'undecodable_command', reason: error.message },
    );
  }

  private replyRecord(reply: CommandReply): OutgoingRecord {
    return {
      topic: this.options.kind.topics.replies,
      partition: this.options.partition,
      key: reply.aggregateId,
      value: encodeReply(reply),
    };
  }

  poison(entry: Entry<LocalCommand>, error: Error): Decided<LocalCommand> {
    const refusal = (command: IncomingCommand) =>
      rejectedCommand(
        command.context,
        command.command.type,
        this.options.kind.aggregateId(command.command),
        {
          kind: 'invalid',
          code: 'append_failed',
          reason: `${command.command.type} could not be appended (a fault, logged by its owner: ${error.message}); nothing changed`,
        },
      );
    let decided: DecidedCommand;
    if ('local' in entry) decided = refusal(entry.local);
    else {
      const command = incoming(entry.record);
      decided =
        command instanceof Error ? this.undecodable(entry.record, command) : refusal(command);
    }
    const reply = replyOf(decided);
    return {
      records: [this.replyRecord(reply)],
      committed: () => {
        commandOutcomes.inc({ type: reply.commandType, outcome: 'failed' });
        this.state.remember(reply);
        if ('local' in entry) entry.local.answer(reply);
      },
      failed: (err) => {
        if ('local' in entry) entry.local.fail(err);
      },
    };
  }

  abandon(local: LocalCommand, error: Error): void {
    local.fail(error);
  }
}
