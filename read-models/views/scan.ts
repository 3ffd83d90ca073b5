import type { Redis } from '../../lib/redis';

/** `prefix` as a literal SCAN MATCH pattern (glob characters escaped), followed by `*`. */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}*`;
}

/**
 * Visits every key starting with `prefix`, a SCAN page at a time. SCAN may return a key more
 * than once; `visit` must tolerate that.
 */
export async function scanPrefix(
  redis: Redis,
  prefix: string,
  visit: (keys: string[]) => Promise<void>,
  count = 1000,
): Promise<void> {
  const pattern = prefixPattern(prefix);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', count);
    // MATCH already filters; the check guards against a pattern mistake ever reaching UNLINK.
    const own = keys.filter((key) => key.startsWith(prefix));
    if (own.length > 0) await visit(own);
    cursor = next;
  } while (cursor !== '0');
}
