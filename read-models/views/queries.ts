import type { Redis } from '../../lib/redis';
import { compareText } from '../keyset';
import type { ViewsKeys } from './keys';

/**
 * The Redis views' queries (read-models/README.md, "Redis views"), in the keys of the generation
 * the caller picked. Each answers undefined for "not there" (the caller may then look at a newer
 * generation).
 */

/** The best sellers, most units first; undefined when none sold yet. */
export async function bestSellers(redis: Redis, keys: ViewsKeys, limit: number) {
  const ranked = await redis.zrevrange(keys.bestsellersKey, 0, limit - 1, 'WITHSCORES');
  if (ranked.length === 0) return undefined;
  const ids = ranked.filter((_, i) => i % 2 === 0);
  const names = await Promise.all(ids.map((id) => redis.hget(keys.productKey(id), 'name')));
  return ids.map((productId, i) => ({
    productId,
    name: names[i] ?? null,
    unitsSold: Number(ranked[2 * i + 1]),
  }));
}

/** The live stock of a product; undefined when the views do not hold it. */
export async function productStock(redis: Redis, keys: ViewsKeys, productId: string) {
  const [id, available, discontinued] = await redis.hmget(
    keys.productKey(productId),
    'id',
    'available',
    'discontinued',
  );
  if (id === null) return undefined;
  return {
    productId,
    available: Number(available ?? 0),
    discontinued: discontinued === 'true',
  };
}

/** Products not discontinued per category, by category name; undefined when there are none. */
export async function categoryCounts(redis: Redis, keys: ViewsKeys) {
  const counts = await redis.hgetall(keys.categoriesKey);
  const names = Object.keys(counts);
  if (names.length === 0) return undefined;
  return names.sort(compareText).map((category) => ({ category, count: Number(counts[category]) }));
}
