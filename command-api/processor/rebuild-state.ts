import type { Message } from '../../domain/decider';
import type { ConsumedRecord, KafkaClient } from '../../lib/kafka';
import { readToEnd } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { decodeEvent } from '../../schemas/codec';
import type { AggregateKind } from './aggregate-kind';
import type { PartitionState } from './partition-state';
import { type CommandReply, decodeReply } from './reply';
import type { PartitionSnapshot } from './snapshots';

export interface Rebuilt {
  /** Records read from the log (after the snapshot, if one was used). */
  replayed: number;
  /** Offsets after the last event and reply now folded into the state. */
  eventsEnd: bigint;
  repliesEnd: bigint;
}

/**
 * Folds a partition's events into `state` (aggregates, unique-key holders) and rebuilds the
 * outcomes of recent commands: an accepted command's from the events it appended (their
 * headers carry its id, type and request hash), a refused one's from its reply record. With a
 * snapshot, `state` starts as the snapshot and only what was appended after it is read.
 */
export async function rebuildPartition<S>(
  kafka: KafkaClient,
  kind: AggregateKind<Message, Message, S>,
  partition: number,
  state: PartitionState<S>,
  logger: Logger,
  snapshot?: PartitionSnapshot,
): Promise<Rebuilt> {
  const fromEvents = new Map<string, CommandReply>();
  const fromReplies: CommandReply[] = [];
  const { events, replies } = kind.topics;
  let eventsEnd = snapshot?.eventsEnd ?? 0n;
  let repliesEnd = snapshot?.repliesEnd ?? 0n;
  if (snapshot) state.restore(snapshot);
  const count = await readToEnd(
    kafka,
    [
      { topic: events, partition },
      { topic: replies, partition },
    ],
    ({ topic, records }) => {
      for (const record of records) {
        if (topic === events) eventsEnd = record.offset + 1n;
        else repliesEnd = record.offset + 1n;
        if (topic === events) foldEvent(kind, state, record, fromEvents);
        else {
          try {
            fromReplies.push(decodeReply(record.value));
          } catch (err) {
            // Only idempotency memory is lost: the command is decided again if repeated.
            logger.warn(
              { err, partition, offset: String(record.offset) },
              'unreadable reply skipped',
            );
          }
        }
      }
    },
    undefined,
    snapshot &&
      new Map([
        [`${events}#${partition}`, snapshot.eventsEnd],
        [`${replies}#${partition}`, snapshot.repliesEnd],
      ]),
  );
  // Replies (the outcome as first answered) take precedence over what events tell.
  for (const reply of fromEvents.values()) state.remember(reply);
  for (const reply of fromReplies) state.remember(reply);
  return { replayed: count, eventsEnd, repliesEnd };
}

function foldEvent<S>(
  kind: AggregateKind<Message, Message, S>,
  state: PartitionState<S>,
  record: ConsumedRecord,
  outcomes: Map<string, CommandReply>,
): void {
  const { event, meta } = decodeEvent(record);
  const entry = state.aggregate(meta.aggregateId);
  const holding = kind.uniqueKey?.change(event, entry.state);
  if (holding) state.applyHolding(holding);
  state.setAggregate(meta.aggregateId, {
    state: kind.decider.evolve(entry.state, event),
    version: meta.aggregateVersion,
  });
  // Events written before their headers named the command's type and request hash cannot
  // rebuild an outcome (their reply records do).
  if (meta.commandType === undefined || meta.requestHash === undefined) return;
  const { type, ...data } = event;
  const shown = {
    type,
    eventId: meta.eventId,
    aggregateVersion: meta.aggregateVersion,
    data,
    position: { topic: record.topic, partition: record.partition, offset: String(record.offset) },
  };
  const known = outcomes.get(meta.commandId);
  if (known?.outcome.status === 'accepted') {
    known.outcome.events.push(shown);
    return;
  }
  outcomes.set(meta.commandId, {
    commandId: meta.commandId,
    commandType: meta.commandType,
    aggregateId: meta.aggregateId,
    actor: meta.actor,
    requestHash: meta.requestHash,
    decidedAt: meta.occurredAt,
    outcome: { status: 'accepted', events: [shown] },
  });
}
