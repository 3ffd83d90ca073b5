/**
 * The Redis key layout of the `views` projection (read-models/README.md, "Redis views").
 *
 * Every key of generation N lives under `P = <REDIS_KEY_PREFIX>views:g<N>:`; which generation
 * readers use is recorded in `<REDIS_KEY_PREFIX>views:generation` (absent → 1).
 *
 * | key                        | type   | content |
 * |----------------------------|--------|---------|
 * | `P product:<id>`           | hash   | `id sku name description category priceAmount currency available discontinued version` |
 * | `P order:<id>`             | hash   | `id customerId status totalAmount currency updatedAt` and `reason` (only once cancelled / returned) |
 * | `P order:<id>:lines`       | hash   | productId → quantity |
 * | `P categories`             | hash   | category → number of products not discontinued (no field for a count of 0) |
 * | `P bestsellers`            | zset   | productId scored by net units ordered (members at 0 are removed) |
 * | `P customer:<id>:orders`   | zset   | orderId scored by placed-at (ms since the epoch); the newest 50 |
 * | `P checkpoint`             | hash   | `<topic>:<partition>` → offset applied (decimal) |
 *
 * Value formats: integers (`priceAmount`, `available`, `version`, `totalAmount`, quantities,
 * counts) are decimal strings; `discontinued` is `true` / `false`; `updatedAt` is the occurred-at of
 * the order's latest event, ISO-8601 in UTC (`2025-01-31T12:00:00.000Z`); `status` is one of `pending confirmed shipped
 * delivered returned cancelled`.
 */
import type { Redis } from '../../lib/redis';

/** How many orders `customer:<id>:orders` keeps, the newest (apply-script.ts has it too). */
export const CUSTOMER_RECENT_ORDERS = 50;

/** The key names of one generation of the views. */
export interface ViewsKeys {
  readonly generation: number;
  /** `<REDIS_KEY_PREFIX>views:g<N>:` — every key of the generation starts with it. */
  readonly prefix: string;
  productKey(productId: string): string;
  orderKey(orderId: string): string;
  orderLinesKey(orderId: string): string;
  readonly categoriesKey: string;
  readonly bestsellersKey: string;
  customerOrdersKey(customerId: string): string;
  readonly checkpointKey: string;
}

const MAX_GENERATION = 999_999_999;

function checkGeneration(generation: number): void {
  if (!Number.isInteger(generation) || generation < 1 || generation > MAX_GENERATION) {
    throw new RangeError(
      `views generation must be a whole number from 1 to ${MAX_GENERATION}, got ${generation}`,
    );
  }
}

/** `<keyPrefix>views:g<generation>:` */
export function viewsPrefix(keyPrefix: string, generation: number): string {
  checkGeneration(generation);
  return `${keyPrefix}views:g${generation}:`;
}

/** The keys of generation `generation` under `keyPrefix` (config.redis.keyPrefix). */
export function viewsKeys(keyPrefix: string, generation: number): ViewsKeys {
  const p = viewsPrefix(keyPrefix, generation);
  return {
    generation,
    prefix: p,
    productKey: (productId) => `${p}product:${productId}`,
    orderKey: (orderId) => `${p}order:${orderId}`,
    orderLinesKey: (orderId) => `${p}order:${orderId}:lines`,
    categoriesKey: `${p}categories`,
    bestsellersKey: `${p}bestsellers`,
    customerOrdersKey: (customerId) => `${p}customer:${customerId}:orders`,
    checkpointKey: `${p}checkpoint`,
  };
}

/** The field of `checkpointKey` holding how far `topic`/`partition` is applied. */
export function checkpointField(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** `<keyPrefix>views:generation`: the generation readers use (absent → 1). */
export function viewsGenerationKey(keyPrefix: string): string {
  return `${keyPrefix}views:generation`;
}

/** The generation the views are read from: the pointer key's value, 1 when absent. */
export async function currentViewsGeneration(redis: Redis, keyPrefix: string): Promise<number> {
  const raw = await redis.get(viewsGenerationKey(keyPrefix));
  if (raw === null) return 1;
  if (!/^[1-9]\d{0,8}$/.test(raw)) {
    throw new Error(
      `${viewsGenerationKey(keyPrefix)} holds ${JSON.stringify(raw)}, not a generation`,
    );
  }
  return Number(raw);
}

/** Points readers at generation `generation` (blue-green switch after a replay). */
export async function switchViewsGeneration(
  redis: Redis,
  keyPrefix: string,
  generation: number,
): Promise<void> {
  checkGeneration(generation);
  await redis.set(viewsGenerationKey(keyPrefix), String(generation));
}
