import type { Message } from '../../domain/decider';
import type {
  ConsumedRecord,
  KafkaClient,
  OutgoingRecord,
  TopicPartitionOffset,
} from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import type { Decided, Entry, PartitionWork } from '../../lib/owned-partitions/partition-work';
import { decodeCommand } from '../../schemas/codec';
import { type DecideScope, decideCommand, type IncomingCommand } from './decide-command';
import { type DecidedCommand, rejectedCommand, replyOf } from './decided-command';
import { PartitionState, PendingChanges } from './partition-state';
import { rebuildPartition } from './rebuild-state';
import { type CommandReply, encodeReply } from './reply';

/** A command from this process's HTTP handlers, answered when its transaction commits. */
export interface LocalCommand extends IncomingCommand {
  answer(reply: CommandReply): void;
  /** Not decided (the owner failed or moved): the caller may retry with the same key. */
  fail(error: Error): void;
  /** Whether the sender still waits; if not, the outcome is also written as a reply record. */
  waiting(): boolean;
}

export interface CommandOwnerOptions<S> extends DecideScope<S> {
  kafka: KafkaClient;
  logger: Logger;
  maxRememberedCommands: number;
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

  constructor(private readonly options: CommandOwnerOptions<S>) {
    this.state = this.freshState();
  }

  private freshState(): PartitionState<S> {
    return new PartitionState(
      this.options.kind.decider.initialState,
      this.options.maxRememberedCommands,
    );
  }

  async rebuild(): Promise<void> {
    const started = Date.now();
    const { kind, partition, kafka, logger } = this.options;
    this.state = this.freshState();
    const replayed = await rebuildPartition(kafka, kind, partition, this.state, logger);
    logger.info(
      {
        aggregate: kind.name,
        partition,
        replayed,
        aggregates: this.state.aggregateCount,
        ms: Date.now() - started,
      },
      'partition owner ready',
    );
  }

  async decide(entries: Entry<LocalCommand>[]): Promise<Decided<LocalCommand>> {
    const pending = new PendingChanges(this.state);
    const batch = entries.map((entry) => this.decideEntry(entry, pending));
    const events = batch.flatMap(({ decided }) => decided.events.map((e) => e.record));
    // Refusals need no positions: their replies go with the events (a reused key's refusal is
    // marked, so no owner ever takes it for the command's outcome).
    const refusals = batch
      .filter((b) => b.decided.rejection)
      .map((b) => this.replyRecord(replyOf(b.decided)));
    const laterReplies = (positions: TopicPartitionOffset[]) => this.replies(batch, positions);
    // An accepted command awaited elsewhere gets a reply record showing where its events are.
    const awaitedElsewhere = batch.some(
      (b) =>
        !b.decided.rejection &&
        !b.decided.repeat &&
        !b.decided.repeatOf &&
        (b.replyRequired || (b.local !== undefined && !b.local.waiting())),
    );
    return {
      records: [...events, ...refusals],
      ...(awaitedElsewhere && {
        followWith: (positions: TopicPartitionOffset[]) =>
          laterReplies(positions)
            .filter((r) => r.needsRecord && r.reply.outcome.status === 'accepted')
            .map((r) => this.replyRecord(r.reply)),
      }),
      committed: (positions) => {
        const replies = laterReplies(positions);
        pending.applyTo(
          this.state,
          replies.filter((r) => !r.decided.reusedKey).map((r) => r.reply),
        );
        for (const { local, reply } of replies) local?.answer(reply);
      },
      failed: (error) => {
        for (const { local } of batch) local?.fail(error);
      },
    };
  }

  /** Each command's reply, its events given their positions (in the order they were sent). */
  private replies(
    batch: { decided: DecidedCommand; local?: LocalCommand; replyRequired: boolean }[],
    positions: TopicPartitionOffset[],
  ) {
    let at = 0;
    const byId = new Map<string, CommandReply>();
    return batch.map(({ decided, local, replyRequired }) => {
      const own = positions.slice(at, at + decided.events.length);
      at += decided.events.length;
      const reply = decided.repeatOf
        ? (byId.get(decided.repeatOf) ?? replyOf(decided, own))
        : replyOf(decided, own);
      if (!decided.repeat && !decided.repeatOf && !decided.reusedKey)
        byId.set(decided.context.commandId, reply);
      const isNew = !decided.repeat && !decided.repeatOf;
      const needsRecord = isNew && (replyRequired || (local !== undefined && !local.waiting()));
      return { decided, local, reply, needsRecord };
    });
  }

  private decideEntry(entry: Entry<LocalCommand>, pending: PendingChanges<S>) {
    const onFault = (err: unknown) =>
      this.options.logger.error(
        { err, aggregate: this.options.kind.name, partition: this.options.partition },
        'command could not be decided',
      );
    if ('local' in entry) {
      const decided = decideCommand(this.options, pending, entry.local, onFault);
      return { decided, local: entry.local, replyRequired: false };
    }
    const command = incoming(entry.record);
    if (command instanceof Error) {
      // A poison command is refused, not retried for ever: the partition must go on.
      this.options.logger.warn(
        { err: command, partition: this.options.partition, offset: String(entry.record.offset) },
        'undecodable command',
      );
      return { decided: this.undecodable(entry.record, command), replyRequired: true };
    }
    return {
      decided: decideCommand(this.options, pending, command, onFault),
      replyRequired: command.replyRequired,
    };
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
