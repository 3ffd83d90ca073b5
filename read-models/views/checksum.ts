import { createHash } from 'node:crypto';
import type { Redis } from '../../lib/redis';
import { viewsPrefix } from './keys';
import { scanPrefix } from './scan';

/** One key of a generation and its full content, in a canonical form. */
export type ViewsEntry =
  | { key: string; type: 'hash'; value: [field: string, value: string][] }
  | { key: string; type: 'zset'; value: [member: string, score: string][] }
  | { key: string; type: 'string'; value: string }
  | { key: string; type: 'set'; value: string[] }
  | { key: string; type: 'list'; value: string[] }
  | { key: string; type: string; value: null };

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

/**
 * Every key of views generation `generation` with its content, keys relative to the generation
 * prefix and sorted (so two generations built from the same events dump equal). Hash fields and
 * set members are sorted; sorted sets are in rank order (score, then member); nothing is left
 * out, the checkpoint hash included.
 */
export async function dumpViewsGeneration(
  redis: Redis,
  keyPrefix: string,
  generation: number,
): Promise<ViewsEntry[]> {
  const prefix = viewsPrefix(keyPrefix, generation);
  const found = new Set<string>();
  await scanPrefix(redis, prefix, async (keys) => {
    for (const key of keys) found.add(key);
  });
  const entries: ViewsEntry[] = [];
  for (const full of [...found].sort()) {
    const key = full.slice(prefix.length);
    const type = await redis.type(full);
    switch (type) {
      case 'none':
        break; // removed since the scan
      case 'hash':
        entries.push({ key, type, value: await hashEntries(redis, full) });
        break;
      case 'zset':
        entries.push({ key, type, value: pairs(await redis.zrange(full, 0, -1, 'WITHSCORES')) });
        break;
      case 'string':
        entries.push({ key, type, value: (await redis.get(full)) ?? '' });
        break;
      case 'set':
        entries.push({ key, type, value: (await redis.smembers(full)).sort() });
        break;
      case 'list':
        entries.push({ key, type, value: await redis.lrange(full, 0, -1) });
        break;
      default:
        entries.push({ key, type, value: null });
    }
  }
  return entries;
}

/** Field/value pairs sorted by field (HGETALL's object form would mangle a `__proto__` field). */
async function hashEntries(redis: Redis, key: string): Promise<[string, string][]> {
  const fields = (await redis.hkeys(key)).sort();
  if (fields.length === 0) return [];
  const values = await redis.hmget(key, ...fields);
  return fields.map((field, i) => [field, values[i] ?? '']);
}

/**
 * A deterministic digest (SHA-256, hex) of every key of views generation `generation` and its
 * full content: equal for two generations holding the same views, whatever order the writes
 * came in (e.g. a live projection and a from-scratch replay of the same events).
 */
export async function viewsChecksum(
  redis: Redis,
  keyPrefix: string,
  generation: number,
): Promise<string> {
  const entries = await dumpViewsGeneration(redis, keyPrefix, generation);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}
