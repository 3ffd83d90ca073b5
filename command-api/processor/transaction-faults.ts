/** Broker refusals of what was written (not of the writer): sent again, they fail again. */
const CONTENT_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
]);

/**
 * Whether a failed transaction failed because of what the commands in it produced, so that
 * retrying it would fail forever: an exception from our own code (building the messages), or
 * the broker refusing a record. Anything else (a broker away, a newer owner fencing this one)
 * is about the writer; the batch is retried or the partition handed over.
 */
export function isContentFault(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  if (!err.name.startsWith('KafkaJS')) return true;
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && CONTENT_ERRORS.has(type)) return true;
  }
  return false;
}
