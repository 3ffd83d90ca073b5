import type { LogPosition } from '../../lib/consistency-token';
import type { Redis } from '../../lib/redis';
import { checkpointField, type ViewsKeys, viewsKeys } from '../../read-models/views/keys';
import type { CachedValue } from './cached-value';
import { ConsistencyTimeoutError, parseOffset, pollUntil } from './consistency';

export interface ViewsReaderOptions {
  redis: Redis;
  /** REDIS_KEY_PREFIX: the views live under `<keyPrefix>views:g<N>:`. */
  keyPrefix: string;
  /** The generation readers use (`<keyPrefix>views:generation`, cached). */
  generation: CachedValue<number>;
  consistencyWaitMs: number;
  pollIntervalMs: number;
}

/**
 * Reads the Redis views (read-models/README.md): picks the generation and waits for a
 * consistency token on the generation's checkpoint hash.
 */
export class ViewsReader {
  constructor(private readonly options: ViewsReaderOptions) {}

  /**
   * Runs `read` with the keys of the current generation once it has applied `positions` (already
   * narrowed to the views' topics; undefined reads at once). `read` returns undefined for "not
   * there"; then the generation pointer is read again, and if a switch happened meanwhile (the
   * old keys may be gone) the read runs once more on the new generation.
   */
  async read<T>(
    positions: readonly LogPosition[] | undefined,
    read: (redis: Redis, keys: ViewsKeys) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const { generation, keyPrefix } = this.options;
    let current = await generation.get();
    for (let attempt = 0; ; attempt++) {
      const g = positions ? await this.waitFor(positions) : current;
      const result = await read(this.options.redis, viewsKeys(keyPrefix, g));
      if (result !== undefined || attempt > 0) return result;
      current = await generation.get(true);
      if (current === g) return undefined;
    }
  }

  /** Waits until the current generation has applied `positions`; that generation. */
  private async waitFor(positions: readonly LogPosition[]): Promise<number> {
    const { redis, keyPrefix, generation, consistencyWaitMs, pollIntervalMs } = this.options;
    const fields = positions.map((p) => checkpointField(p.topic, p.partition));
    const found = await pollUntil(
      async () => {
        const g = await generation.get();
        const applied = await redis.hmget(viewsKeys(keyPrefix, g).checkpointKey, ...fields);
        const done = positions.every((p, i) => {
          const offset = parseOffset(applied[i]);
          return offset !== undefined && offset >= BigInt(p.offset);
        });
        return done ? g : undefined;
      },
      consistencyWaitMs,
      pollIntervalMs,
    );
    if (found === undefined) throw new ConsistencyTimeoutError('views', consistencyWaitMs);
    return found;
  }
}
