/** The envelope of DESIGN §3: message shapes and the metadata carried in Kafka headers. */

/** Any event or command: a `type` discriminator plus its fields (DESIGN §3, domain/README.md). */
export interface TypedMessage {
  readonly type: string;
}

/** A decoded message: its `type` and the fields of its current schema. */
export type DecodedMessage = { type: string } & Record<string, unknown>;

/** The event envelope's headers (DESIGN §3) as a typed object. */
export interface EventMetadata {
  /** UUIDv7. */
  eventId: string;
  aggregateId: string;
  aggregateVersion: number;
  commandId: string;
  correlationId: string;
  causationId: string;
  /** ISO-8601 with a time zone, e.g. `2025-01-31T12:00:00.000Z`. */
  occurredAt: string;
  actor: string;
  /** The command that caused it (absent on events written before it was recorded). */
  commandType?: string;
  /**
   * Hash of the request that sent the command: with the command id, what a new owner rebuilds
   * a command's outcome from, so a repeat gets the first answer (absent on older events).
   */
  requestHash?: string;
  /** W3C trace context, when the work is traced. */
  traceparent?: string;
  tracestate?: string;
}

/** What `encodeEvent` needs: the metadata, with `eventId` generated (UUIDv7) when omitted. */
export type EventMetadataInput = Omit<EventMetadata, 'eventId'> & { eventId?: string };

/** The command envelope's headers as a typed object. */
export interface CommandMetadata {
  commandId: string;
  correlationId: string;
  actor: string;
  /** ISO-8601 with a time zone. */
  issuedAt: string;
  /** Hash of the request (HTTP method, path, body): a reused id with another body is refused. */
  requestHash?: string;
  /** Set when the sender waits for the outcome elsewhere: the owner writes a reply record. */
  replyRequired?: boolean;
  traceparent?: string;
  tracestate?: string;
}

/** A message ready to send (key and topic are the caller's). */
export interface EncodedMessage {
  value: Buffer;
  headers: Record<string, string>;
}
