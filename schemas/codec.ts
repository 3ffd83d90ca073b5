import { v7 as uuidv7 } from 'uuid';
import type { DomainEvent } from '../domain/events';
import type {
  CommandMetadata,
  DecodedMessage,
  EncodedMessage,
  EventMetadata,
  EventMetadataInput,
  TypedMessage,
} from './envelope';
import { SchemaError } from './errors';
import {
  checkTimestamp,
  headerString,
  type IncomingMessage,
  parseVersion,
  requiredHeader,
} from './headers';
import { readPayload, writePayload } from './payload';
import { getDefaultRegistry, type SchemaRegistry } from './registry';

export type {
  CommandMetadata,
  DecodedMessage,
  EncodedMessage,
  EventMetadata,
  EventMetadataInput,
  TypedMessage,
} from './envelope';
export { SchemaError } from './errors';
export type { IncomingHeaders, IncomingMessage } from './headers';
export { uuidv7 };

/** A new event id (UUIDv7: time-ordered). */
export const newEventId = (): string => uuidv7();

/**
 * Events decode as the domain's `DomainEvent` union (`ProductEvent | OrderEvent`): the payload
 * was checked against the Avro schema of its `type`, and each schema is the domain type's
 * (schemas/catalogue.test.ts), so readers switch on `type` and trust the fields. Commands decode
 * as `DecodedMessage` unless told the domain type.
 */
export interface Codec {
  encodeEvent<E extends TypedMessage>(event: E, meta: EventMetadataInput): EncodedMessage;
  decodeEvent<E extends TypedMessage = DomainEvent>(
    message: IncomingMessage,
  ): { event: E; meta: EventMetadata };
  encodeCommand<C extends TypedMessage>(command: C, meta: CommandMetadata): EncodedMessage;
  decodeCommand<C extends TypedMessage = DecodedMessage>(
    message: IncomingMessage,
  ): { command: C; meta: CommandMetadata };
}

const FINGERPRINT = 'schema-fingerprint';

/** Splits `type` off a message (it travels in a header, not in the payload). */
function splitType(message: TypedMessage, kind: string): { type: string; payload: object } {
  if (message === null || typeof message !== 'object' || typeof message.type !== 'string') {
    throw new SchemaError(`${kind} has no string 'type'`);
  }
  const { type, ...payload } = message;
  return { type, payload };
}

const traceHeaders = (meta: { traceparent?: string; tracestate?: string }) => ({
  ...(meta.traceparent !== undefined && { traceparent: meta.traceparent }),
  ...(meta.tracestate !== undefined && { tracestate: meta.tracestate }),
});

/** Every header we write must be readable back: non-empty strings only. */
function checked(headers: Record<string, unknown>): Record<string, string> {
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || value === '') {
      throw new SchemaError(`header '${name}' must be a non-empty string, got ${String(value)}`);
    }
  }
  return headers as Record<string, string>;
}

/** An optional header: absent when the value is undefined or empty. */
const optional = <K extends string>(name: K, value: string | undefined) =>
  (value === undefined || value === '' ? {} : { [name]: value }) as { [P in K]?: string };

/** Encoders/decoders over a given registry (tests build one from extra schema directories). */
export function createCodec(registry: SchemaRegistry): Codec {
  return {
    encodeEvent(event, meta) {
      const { type, payload } = splitType(event, 'event');
      const schema = registry.current('event', type);
      const value = writePayload(schema, payload);
      return {
        value,
        headers: checked({
          'event-type': type,
          [FINGERPRINT]: schema.fingerprint,
          'event-id': meta.eventId ?? uuidv7(),
          'aggregate-id': meta.aggregateId,
          'aggregate-version': String(
            parseVersion('aggregateVersion', String(meta.aggregateVersion)),
          ),
          'command-id': meta.commandId,
          'correlation-id': meta.correlationId,
          'causation-id': meta.causationId,
          'occurred-at': checkTimestamp('occurredAt', meta.occurredAt),
          actor: meta.actor,
          ...optional('command-type', meta.commandType),
          ...optional('request-hash', meta.requestHash),
          ...traceHeaders(meta),
        }),
      };
    },

    decodeEvent<E extends TypedMessage = DomainEvent>({ value, headers = {} }: IncomingMessage) {
      const type = requiredHeader(headers, 'event-type');
      const plan = registry.readPlan('event', type, requiredHeader(headers, FINGERPRINT));
      const event = { type, ...readPayload(plan, value) };
      const meta: EventMetadata = {
        eventId: requiredHeader(headers, 'event-id'),
        aggregateId: requiredHeader(headers, 'aggregate-id'),
        aggregateVersion: parseVersion(
          'aggregate-version',
          requiredHeader(headers, 'aggregate-version'),
        ),
        commandId: requiredHeader(headers, 'command-id'),
        correlationId: requiredHeader(headers, 'correlation-id'),
        causationId: requiredHeader(headers, 'causation-id'),
        occurredAt: checkTimestamp('occurred-at', requiredHeader(headers, 'occurred-at')),
        actor: requiredHeader(headers, 'actor'),
        ...optional('commandType', headerString(headers, 'command-type')),
        ...optional('requestHash', headerString(headers, 'request-hash')),
        ...optional('traceparent', headerString(headers, 'traceparent')),
        ...optional('tracestate', headerString(headers, 'tracestate')),
      };
      return { event: event as unknown as E, meta };
    },

    encodeCommand(command, meta) {
      const { type, payload } = splitType(command, 'command');
      const schema = registry.current('command', type);
      const value = writePayload(schema, payload);
      return {
        value,
        headers: checked({
          'command-type': type,
          [FINGERPRINT]: schema.fingerprint,
          'command-id': meta.commandId,
          'correlation-id': meta.correlationId,
          actor: meta.actor,
          'issued-at': checkTimestamp('issuedAt', meta.issuedAt),
          ...optional('request-hash', meta.requestHash),
          ...(meta.replyRequired === true && { reply: 'required' }),
          ...traceHeaders(meta),
        }),
      };
    },

    decodeCommand<C extends TypedMessage = DecodedMessage>({
      value,
      headers = {},
    }: IncomingMessage) {
      const type = requiredHeader(headers, 'command-type');
      const plan = registry.readPlan('command', type, requiredHeader(headers, FINGERPRINT));
      const command: DecodedMessage = { type };
      // Optional command fields are absent, never null, in the domain.
      for (const [k, v] of Object.entries(readPayload(plan, value))) if (v !== null) command[k] = v;
      const meta: CommandMetadata = {
        commandId: requiredHeader(headers, 'command-id'),
        correlationId: requiredHeader(headers, 'correlation-id'),
        actor: requiredHeader(headers, 'actor'),
        issuedAt: checkTimestamp('issued-at', requiredHeader(headers, 'issued-at')),
        ...optional('requestHash', headerString(headers, 'request-hash')),
        ...(headerString(headers, 'reply') === 'required' && { replyRequired: true }),
        ...optional('traceparent', headerString(headers, 'traceparent')),
        ...optional('tracestate', headerString(headers, 'tracestate')),
      };
      return { command: command as unknown as C, meta };
    },
  };
}

let defaultCodec: Codec | undefined;
const codec = (): Codec => {
  defaultCodec ??= createCodec(getDefaultRegistry());
  return defaultCodec;
};

/** Avro payload + envelope headers (DESIGN §3) for an event, with the current schema of its type. */
export const encodeEvent = <E extends TypedMessage>(
  event: E,
  meta: EventMetadataInput,
): EncodedMessage => codec().encodeEvent(event, meta);

/** The event (with `type`) and its metadata, resolved from the writer's schema to the current one. */
export const decodeEvent = <E extends TypedMessage = DomainEvent>(message: IncomingMessage) =>
  codec().decodeEvent<E>(message);

/** Avro payload + headers for a command, with the current schema of its type. */
export const encodeCommand = <C extends TypedMessage>(
  command: C,
  meta: CommandMetadata,
): EncodedMessage => codec().encodeCommand(command, meta);

/** The command (with `type`, optional fields absent when absent) and its metadata. */
export const decodeCommand = <C extends TypedMessage = DecodedMessage>(message: IncomingMessage) =>
  codec().decodeCommand<C>(message);
