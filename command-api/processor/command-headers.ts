import type { IHeaders } from 'kafkajs';

/** Headers the command API puts on a command beside the codec's own. */
export const COMMAND_HEADERS = {
  requestHash: 'request-hash',
  /** On a ReserveStock: send the order the reservation's outcome (the saga asks for it). */
  notifyOrder: 'notify-order',
} as const;

export function headerValue(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const first = Array.isArray(raw) ? raw[0] : raw;
  return first === undefined ? undefined : String(first);
}
