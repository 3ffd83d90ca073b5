import type { Message, Rejection } from '../../domain/decider';
import { partitionOf } from '../../lib/kafka';
import { uuidv7 } from '../../schemas/codec';
import type { AggregateKind, KeyHolding } from './aggregate-kind';
import {
  type CommandContext,
  type DecidedCommand,
  encodeEvents,
  type NewEvent,
  rejectedCommand,
  repeatedCommand,
} from './decided-command';
import type { PendingChanges } from './partition-state';
import { IDEMPOTENCY_KEY_REUSED } from './reply';

/** A command as its owner receives it. */
export interface IncomingCommand {
  context: CommandContext;
  command: Message;
}

export interface DecideScope<S> {
  kind: AggregateKind<Message, Message, S>;
  partition: number;
  partitions: number;
}

const invalid = (code: string, reason: string): Rejection => ({ kind: 'invalid', code, reason });

/**
 * Decides one command of this partition against the batch's pending state: a repeat gets its
 * first outcome, a reused Idempotency-Key is refused, a new command is decided by the
 * aggregate's decider and its events encoded. Whatever it throws (a decider's exception, an
 * event its schema refuses) becomes this command's refusal; `pending` only changes once
 * everything is encoded, so the partition's later commands go on from a state the log has.
 */
export function decideCommand<S>(
  scope: DecideScope<S>,
  pending: PendingChanges<S>,
  incoming: IncomingCommand,
  onFault: (err: unknown) => void,
): DecidedCommand {
  const { context, command } = incoming;
  const aggregateId = scope.kind.aggregateId(command);
  const earlier = pending.outcome(context.commandId);
  if (earlier) {
    const hash = 'context' in earlier ? earlier.context.requestHash : earlier.requestHash;
    if (hash === context.requestHash) return repeatedCommand(context, earlier);
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
  let decided: DecidedCommand;
  try {
    decided = decideNew(scope, pending, context, command);
  } catch (err) {
    onFault(err);
    decided = rejectedCommand(
      context,
      command.type,
      aggregateId,
      invalid(
        'command_failed',
        `${command.type} could not be decided (a fault, logged by its owner); nothing changed`,
      ),
    );
  }
  pending.remember(decided);
  return decided;
}

function decideNew<S>(
  scope: DecideScope<S>,
  pending: PendingChanges<S>,
  context: CommandContext,
  command: Message,
): DecidedCommand {
  const { decider, uniqueKey, topics } = scope.kind;
  const aggregateId = scope.kind.aggregateId(command);
  const key = uniqueKey?.claimedBy(command);
  const misplaced =
    misplacedKey(scope, aggregateId, 'aggregate') ??
    (uniqueKey && key !== undefined ? misplacedKey(scope, key, uniqueKey.name) : undefined);
  if (misplaced) return rejectedCommand(context, command.type, aggregateId, misplaced);

  const entry = pending.aggregate(aggregateId);
  const decision = decider.decide(command, entry.state);
  const rejection = !decision.ok
    ? decision.rejection
    : uniqueKey && key !== undefined
      ? uniqueKey.refusal(key, aggregateId, [...pending.holdersOf(key)])
      : undefined;
  if (rejection) return rejectedCommand(context, command.type, aggregateId, rejection);

  let { state, version } = entry;
  const holdings: KeyHolding[] = [];
  const events: NewEvent[] = [];
  for (const event of decision.ok ? decision.events : []) {
    const holding = uniqueKey?.change(event, state);
    if (holding) holdings.push(holding);
    state = decider.evolve(state, event);
    version += 1;
    events.push({ aggregateId, event, version, eventId: uuidv7() });
  }
  const decidedAt = new Date().toISOString();
  const decided: DecidedCommand = {
    context,
    commandType: command.type,
    aggregateId,
    events: encodeEvents(context, command.type, events, topics.events, scope.partition, decidedAt),
    decidedAt,
  };
  pending.setAggregate(aggregateId, { state, version });
  for (const holding of holdings) pending.applyHolding(holding);
  return decided;
}

/** The refusal of a key (an aggregate id, a unique key) that another partition owns. */
function misplacedKey<S>(scope: DecideScope<S>, key: string, what: string): Rejection | undefined {
  const owner = partitionOf(key, scope.partitions);
  if (owner === scope.partition) return undefined;
  return invalid(
    'wrong_partition',
    `${what} ${key} belongs to partition ${owner}, not ${scope.partition}: key commands by aggregate id with the default partitioner${what === 'aggregate' ? '' : `, and give a new aggregate an id in its ${what}'s partition`}`,
  );
}
