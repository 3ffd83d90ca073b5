import type { OutgoingRecord, TopicPartitionOffset } from '../../lib/kafka';
import { type DecideScope, decideCommand, type IncomingCommand } from './decide-command';
import { type DecidedCommand, replyOf } from './decided-command';
import { type PartitionState, PendingChanges } from './partition-state';
import type { CommandReply } from './reply';

/** One command of a batch, as the pure step takes it. */
export interface BatchCommand<L> {
  /** The command to decide, or one refused already (undecodable: nothing to decide). */
  command: IncomingCommand | { refused: DecidedCommand };
  /** Its sender asked for a reply record (a command from the commands topic). */
  replyRequired: boolean;
  /** The local sender (an HTTP handler of this process), handed back with its reply. */
  local?: L;
  /** Whether the local sender still waits; asked when deciding and again for the replies. */
  waiting?: () => boolean;
}

/** A command's reply in a committed batch. */
export interface BatchReply<L> {
  decided: DecidedCommand;
  local?: L;
  reply: CommandReply;
  /** A new outcome its sender waits for elsewhere: it needs a reply record. */
  needsRecord: boolean;
}

/** What a batch decided: appended as one transaction, applied to the state once it commits. */
export interface DecidedBatch<S, L> {
  /** The accepted commands' events, in order: appended first. */
  events: OutgoingRecord[];
  /** Replies that need no position (refusals): appended with the events. */
  refusals: CommandReply[];
  /** An accepted command is awaited elsewhere: its reply record must follow its events. */
  awaitedElsewhere: boolean;
  /**
   * Every command's reply once the events have their positions (in the order of `events`):
   * a reply exists only after its events do, never with a placeholder position.
   */
  replies(positions: readonly TopicPartitionOffset[]): BatchReply<L>[];
  /** The state changes, kept apart until the transaction commits (`commit`). */
  pending: PendingChanges<S>;
  /** After the commit: the changes and the new outcomes into `state`; the replies. */
  commit(state: PartitionState<S>, positions: readonly TopicPartitionOffset[]): BatchReply<L>[];
}

const isNew = (decided: DecidedCommand): boolean => !decided.repeat && !decided.repeatOf;

/**
 * Decides a batch of one partition's commands in order against `state` (DESIGN §4): commands,
 * state → events, replies, new state. No Kafka here: the owner (command-owner.ts) decodes the
 * batch, appends what this returns in one transaction and commits it.
 */
export function decideBatch<S, L>(
  scope: DecideScope<S>,
  state: PartitionState<S>,
  commands: readonly BatchCommand<L>[],
  onFault: (err: unknown) => void,
): DecidedBatch<S, L> {
  const pending = new PendingChanges(state);
  const batch = commands.map((c) => ({
    decided:
      'refused' in c.command
        ? c.command.refused
        : decideCommand(scope, pending, c.command, onFault),
    local: c.local,
    replyRequired: c.replyRequired,
    waiting: c.waiting,
  }));
  const awaitedAt = (b: (typeof batch)[number]) =>
    b.replyRequired || (b.waiting !== undefined && !b.waiting());
  const replies = (positions: readonly TopicPartitionOffset[]): BatchReply<L>[] => {
    let at = 0;
    const byId = new Map<string, CommandReply>();
    return batch.map((b) => {
      const { decided, local } = b;
      const own = positions.slice(at, at + decided.events.length);
      at += decided.events.length;
      // A repeat within the batch answers with its sibling's reply.
      const reply = decided.repeatOf
        ? (byId.get(decided.repeatOf) ?? replyOf(decided, own))
        : replyOf(decided, own);
      if (isNew(decided) && !decided.reusedKey) byId.set(decided.context.commandId, reply);
      return { decided, local, reply, needsRecord: isNew(decided) && awaitedAt(b) };
    });
  };
  return {
    events: batch.flatMap(({ decided }) => decided.events.map((e) => e.record)),
    // A reused key's refusal is marked, so no owner ever takes it for the command's outcome.
    refusals: batch.filter((b) => b.decided.rejection).map((b) => replyOf(b.decided)),
    awaitedElsewhere: batch.some((b) => !b.decided.rejection && isNew(b.decided) && awaitedAt(b)),
    replies,
    pending,
    commit(target, positions) {
      const all = replies(positions);
      pending.applyTo(
        target,
        all.filter((r) => !r.decided.reusedKey).map((r) => r.reply),
      );
      return all;
    },
  };
}
