import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** A UUID-shaped id that is always the same for the same input (name-based, like UUIDv5). */
export function deterministicUuid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  // Version 5 and RFC 4122 variant bits, so it parses as a UUID everywhere.
  const variant = ((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A command's id: the same for every retry carrying the same Idempotency-Key from the same
 * caller (so the owner answers retries with the first outcome), otherwise new.
 */
export function commandIdFor(actor: string, idempotencyKey: string | undefined): string {
  return idempotencyKey === undefined
    ? uuidv7()
    : deterministicUuid('command', actor, idempotencyKey);
}

/** The id of an aggregate a command creates: derived from the command, so a retry creates the same one. */
export function newAggregateId(commandId: string): string {
  return deterministicUuid('aggregate', commandId);
}

/** Hash of what the client asked for: method, path and the validated body. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
