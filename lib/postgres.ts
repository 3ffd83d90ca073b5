import { Client, Pool } from 'pg';
import { withTimeout } from './timeout';

export { Pool };

export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

/** One pool per read-model shard, in ring order. */
export function createShardPools(shardUrls: string[], max = 3): Pool[] {
  return shardUrls.map(
    (connectionString) => new Pool({ connectionString, max, connectionTimeoutMillis: 5000 }),
  );
}

/** Resolves when the database at `url` answers `select 1` within `timeoutMs`. */
export async function pingPostgres(url: string, timeoutMs: number): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await withTimeout(
      (async () => {
        await client.connect();
        await client.query('select 1');
      })(),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
