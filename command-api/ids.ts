import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { partitionOf } from '../lib/kafka';

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

/**
 * The id of a product a command creates: derived from the command (a retry creates the same)
 * and in the partition of its SKU, so that one owner sees every product with that SKU and can
 * refuse a taken one. Candidates are tried in turn; about one in `partitions` fits.
 */
export function newProductId(commandId: string, sku: string, partitions: number): string {
  const wanted = partitionOf(sku, partitions);
  for (let attempt = 0; attempt < 100_000; attempt += 1) {
    const id =
      attempt === 0
        ? newAggregateId(commandId)
        : deterministicUuid('aggregate', commandId, String(attempt));
    if (partitionOf(id, partitions) === wanted) return id;
  }
  throw new Error(`no product id in partition ${wanted} of ${partitions} for command ${commandId}`);
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
