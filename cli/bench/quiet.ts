import { sleep } from '../../infra/process-control';
import type { KafkaAdmin } from '../../lib/kafka';
import { type EndOffsets, endOffsets } from './log-offsets';

export interface QuietOutcome {
  quiet: boolean;
  waitedMs: number;
  /** The end offsets once quiet (or when the wait ran out). */
  ends: EndOffsets;
}

const same = (a: EndOffsets, b: EndOffsets) =>
  a.size === b.size && [...a].every(([key, end]) => b.get(key) === end);

/**
 * Waits until nothing is appended to `topics` for `stableMs` (the stack has worked off what it
 * was given: commands decided, sagas settled), at most `maxMs`.
 */
export async function waitUntilQuiet(
  admin: KafkaAdmin,
  topics: string[],
  stableMs: number,
  maxMs: number,
): Promise<QuietOutcome> {
  const start = Date.now();
  let last = await endOffsets(admin, topics);
  let stableSince = Date.now();
  while (Date.now() - stableSince < stableMs) {
    if (Date.now() - start > maxMs)
      return { quiet: false, waitedMs: Date.now() - start, ends: last };
    await sleep(500);
    const now = await endOffsets(admin, topics);
    if (!same(now, last)) stableSince = Date.now();
    last = now;
  }
  return { quiet: true, waitedMs: Date.now() - start, ends: last };
}
