/** What went wrong when a message did not match the schemas this process knows. */
export interface SchemaErrorDetails {
  /** The event or command type concerned, e.g. `ProductCreated`. */
  typeName?: string;
  /** The writer-schema fingerprint (sha256, hex) concerned. */
  fingerprint?: string;
  /** The payload field path concerned, e.g. `lines.0.quantity`. */
  field?: string;
}

/**
 * A message cannot be encoded or decoded: unknown type, unknown writer schema, a payload that
 * does not match its schema, or a missing/invalid envelope header. Never a business rejection.
 */
export class SchemaError extends Error {
  readonly typeName: string | undefined;
  readonly fingerprint: string | undefined;
  readonly field: string | undefined;

  constructor(message: string, details: SchemaErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SchemaError';
    this.typeName = details.typeName;
    this.fingerprint = details.fingerprint;
    this.field = details.field;
  }
}
