import type { Message, Rejection } from '../../domain/decider';
import type { OutgoingRecord, TopicPartitionOffset } from '../../lib/kafka';
import { traceFieldsOf } from '../../lib/telemetry/trace-context';
import { decodeEvent, encodeEvent } from '../../schemas/codec';
import type { AppendedEvent, CommandReply } from './reply';

/** Who sent a command and what for (from its headers, or from the HTTP request). */
export interface CommandContext {
  commandId: string;
  correlationId: string;
  actor: string;
  requestHash: string;
  /** W3C trace context of the work that sent it (its events continue the trace). */
  traceparent?: string;
  tracestate?: string;
}

/** An event a command produced, numbered in its aggregate's stream. */
export interface NewEvent {
  aggregateId: string;
  event: Message;
  version: number;
  eventId: string;
}

/** One command's outcome, with everything it appends already encoded. */
export interface DecidedCommand {
  context: CommandContext;
  commandType: string;
  aggregateId: string;
  /** Accepted: its new events (none for a command that changes nothing). */
  events: { record: OutgoingRecord; shown: Omit<AppendedEvent, 'position'> }[];
  /** Rejected: why (nothing is appended but the reply). */
  rejection?: Rejection;
  /** The refusal of a reused Idempotency-Key: an answer, never the command's outcome. */
  reusedKey?: boolean;
  /** A repeat of a decided command: its first outcome, answered again. */
  repeat?: CommandReply;
  /** A repeat of a command decided earlier in the same batch (its command id). */
  repeatOf?: string;
  decidedAt: string;
}

/** A refusal, which appends nothing but (maybe) its reply. */
export function rejectedCommand(
  context: CommandContext,
  commandType: string,
  aggregateId: string,
  rejection: Rejection,
  reusedKey = false,
): DecidedCommand {
  return {
    context,
    commandType,
    aggregateId,
    events: [],
    rejection,
    ...(reusedKey && { reusedKey: true }),
    decidedAt: new Date().toISOString(),
  };
}

/**
 * A repeat of a decided command — remembered, or decided earlier in this batch: answered with
 * its first outcome, appending nothing.
 */
export function repeatedCommand(
  context: CommandContext,
  earlier: CommandReply | DecidedCommand,
): DecidedCommand {
  const sibling = 'context' in earlier;
  return {
    context,
    commandType: earlier.commandType,
    aggregateId: earlier.aggregateId,
    events: [],
    ...(sibling ? { repeatOf: earlier.context.commandId } : { repeat: earlier }),
    decidedAt: earlier.decidedAt,
  };
}

/**
 * Encodes a command's events for its partition of `topic`. The reply shows each event as a
 * reader decodes it, so a repeat answered from the log after a failover has the same bytes.
 */
export function encodeEvents(
  context: CommandContext,
  commandType: string,
  events: NewEvent[],
  topic: string,
  partition: number,
  occurredAt: string,
): DecidedCommand['events'] {
  return events.map((e) => {
    const { value, headers } = encodeEvent(e.event, {
      eventId: e.eventId,
      aggregateId: e.aggregateId,
      aggregateVersion: e.version,
      commandId: context.commandId,
      correlationId: context.correlationId,
      causationId: context.commandId,
      occurredAt,
      actor: context.actor,
      commandType,
      requestHash: context.requestHash,
      ...traceFieldsOf(context),
    });
    const { type, ...data } = decodeEvent({ value, headers }).event;
    return {
      record: { topic, partition, key: e.aggregateId, value, headers },
      shown: { type, eventId: e.eventId, aggregateVersion: e.version, data },
    };
  });
}

/** The reply of a decided command, once its events have their positions in the log. */
export function replyOf(
  decided: DecidedCommand,
  positions: TopicPartitionOffset[] = [],
): CommandReply {
  if (decided.repeat) return decided.repeat;
  const base = {
    commandId: decided.context.commandId,
    commandType: decided.commandType,
    aggregateId: decided.aggregateId,
    actor: decided.context.actor,
    requestHash: decided.context.requestHash,
    decidedAt: decided.decidedAt,
  };
  if (decided.rejection) {
    return {
      ...base,
      ...(decided.reusedKey && { reusedKey: true as const }),
      outcome: { status: 'rejected', rejection: decided.rejection },
    };
  }
  return {
    ...base,
    outcome: {
      status: 'accepted',
      events: decided.events.map((e, i) => {
        const at = positions[i];
        if (!at) throw new Error(`event ${e.shown.eventId} has no position yet`);
        return {
          ...e.shown,
          position: { topic: at.topic, partition: at.partition, offset: String(at.offset) },
        };
      }),
    },
  };
}
