import { randomBytes } from 'node:crypto';
import type { OutgoingRecord } from '../../../lib/kafka';

/** The raw baselines' message: 1 KB of random bytes (incompressible), shared by every record. */
export const MESSAGE_BYTES = 1024;
const payload = randomBytes(MESSAGE_BYTES);

/** `count` records from `first` on, keyed `k<n>` (spread over the partitions by the key). */
export function records(topic: string, first: number, count: number): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic,
    key: `k${first + i}`,
    value: payload,
  }));
}

/** Per second, from a count and the milliseconds it took. */
export const perSecond = (count: number, ms: number): number =>
  ms > 0 ? Math.round((count * 1000) / ms) : 0;
