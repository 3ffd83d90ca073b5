import type { Message, Rejection } from '../../domain/decider';
import { encodeCommand, encodeEvent } from '../../schemas/codec';
import type { FollowUpCommand } from './aggregate-kind';
import { COMMAND_HEADERS } from './command-headers';
import type { AppendedEvent, CommandReply } from './reply';

/** Who sent a command, from its headers. */
export interface CommandContext {
  commandId: string;
  correlationId: string;
  actor: string;
  requestHash: string;
}

/** A message ready for a transaction's send (the topic is the caller's). */
export interface OutgoingMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** One command's outcome, with everything it writes already encoded. */
export interface DecidedCommand {
  context: CommandContext;
  reply: CommandReply;
  /** Its events for the events topic, in order (none when rejected or repeated). */
  events: OutgoingMessage[];
  /** Commands it sends to other aggregates. */
  followUps: { topic: string; message: OutgoingMessage }[];
}

/** An event a command produced, numbered in its aggregate's stream. */
export interface NewEvent {
  aggregateId: string;
  event: Message;
  version: number;
  eventId: string;
}

/** A refusal, which writes nothing but its reply. */
export function rejectedCommand(
  context: CommandContext,
  commandType: string,
  aggregateId: string,
  rejection: Rejection,
  reusedKey = false,
): DecidedCommand {
  return {
    context,
    events: [],
    followUps: [],
    reply: {
      commandId: context.commandId,
      commandType,
      aggregateId,
      actor: context.actor,
      requestHash: context.requestHash,
      decidedAt: new Date().toISOString(),
      ...(reusedKey && { reusedKey: true as const }),
      outcome: { status: 'rejected', rejection },
    },
  };
}

/** The reply of an accepted command; each event's position is filled in once appended. */
export function acceptedReply(
  context: CommandContext,
  commandType: string,
  aggregateId: string,
  events: NewEvent[],
  eventsTopic: string,
  partition: number,
): CommandReply {
  return {
    commandId: context.commandId,
    commandType,
    aggregateId,
    actor: context.actor,
    requestHash: context.requestHash,
    decidedAt: new Date().toISOString(),
    outcome: {
      status: 'accepted',
      events: events.map((e): AppendedEvent => {
        const { type, ...data } = e.event as Message & Record<string, unknown>;
        return {
          type,
          eventId: e.eventId,
          aggregateVersion: e.version,
          data,
          position: { topic: eventsTopic, partition, offset: '0' },
        };
      }),
    },
  };
}

/** Encodes a command's events (throws a SchemaError for one its schema refuses). */
export function encodeEvents(context: CommandContext, events: NewEvent[]): OutgoingMessage[] {
  const occurredAt = new Date().toISOString();
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
    });
    return { key: e.aggregateId, value, headers };
  });
}

/** Encodes the commands one command sends on, as its owner (`ownerName`). */
export function encodeFollowUps(
  context: CommandContext,
  followUps: FollowUpCommand[],
  ownerName: string,
): DecidedCommand['followUps'] {
  const issuedAt = new Date().toISOString();
  return followUps.map((f) => {
    const { value, headers } = encodeCommand(f.command, {
      commandId: f.commandId,
      correlationId: context.correlationId,
      actor: `service:${ownerName}-owner`,
      issuedAt,
    });
    return {
      topic: f.topic,
      message: {
        key: f.aggregateId,
        value,
        headers: { ...headers, [COMMAND_HEADERS.requestHash]: f.commandId },
      },
    };
  });
}
