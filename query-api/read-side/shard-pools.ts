import { Pool } from 'pg';
import { type Config, shardUrlsFor } from '../../lib/config';
import type { Logger } from '../../lib/logger';

/**
 * The leader shard pools of the query API: the configured shards from the start, and any shard
 * beyond them opened when a generation's ring first reaches it (after `orderstream shards add`
 * the running query API reads the new databases without a restart, when their URLs derive
 * from POSTGRES_SHARDS).
 */
export class ShardPools {
  private readonly pools: Pool[] = [];

  constructor(
    private readonly postgres: Config['postgres'],
    private readonly poolSize: number,
    private readonly logger: Logger,
  ) {
    for (let shard = 0; shard < postgres.shardUrls.length; shard++) this.open(shard);
  }

  /** The configured shards' pools, in ring order (health checks ask these). */
  get configured(): readonly Pool[] {
    return this.pools.slice(0, this.postgres.shardUrls.length);
  }

  /** The pool of shard `shard`; throws ConfigError when its URL is not configured or derivable. */
  get(shard: number): Pool {
    return this.pools[shard] ?? this.open(shard);
  }

  private open(shard: number): Pool {
    for (let i = this.pools.length; i <= shard; i++) {
      const pool = new Pool({
        connectionString: shardUrlsFor(this.postgres, i + 1)[i],
        max: this.poolSize,
        // Kept once opened: pg closes idle connections after 10 s, and a burst after a quiet
        // spell then waited for a pool's worth of new backends (reads past 1 s in the bench).
        min: this.poolSize,
        connectionTimeoutMillis: 5000,
      });
      pool.on('error', (err) => this.logger.warn({ err, shard: i }, 'postgres shard error'));
      this.pools.push(pool);
    }
    return this.pools[shard] as Pool;
  }

  async end(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.end()));
  }
}
