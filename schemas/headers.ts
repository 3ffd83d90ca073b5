import { SchemaError } from './errors';

/** Kafka header values as kafkajs delivers them (a repeated header arrives as an array). */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

/** Headers as kafkajs delivers them (`IHeaders`). */
export type IncomingHeaders = Readonly<Record<string, HeaderValue>>;

/** A consumed Kafka message, as kafkajs delivers it (value and headers are all we read). */
export interface IncomingMessage {
  value: Buffer | null;
  headers?: IncomingHeaders;
}

/** A header as a string; a repeated header counts by its last value (like Kafka's lastHeader). */
export function headerString(headers: IncomingHeaders, name: string): string | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** A header that must be there (SchemaError naming it if absent or empty). */
export function requiredHeader(headers: IncomingHeaders, name: string): string {
  const value = headerString(headers, name);
  if (value === undefined || value === '') {
    throw new SchemaError(`message has no '${name}' header`);
  }
  return value;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Checks an ISO-8601 timestamp (with a time zone), for `occurred-at` / `issued-at`. */
export function checkTimestamp(name: string, value: string): string {
  if (!ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
    throw new SchemaError(`'${name}' must be an ISO-8601 timestamp, got '${value}'`);
  }
  return value;
}

/** Checks a non-negative safe integer, for `aggregate-version`. */
export function parseVersion(name: string, value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new SchemaError(`'${name}' must be a non-negative integer, got '${value}'`);
  }
  return n;
}
