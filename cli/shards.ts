import { ensureShardDatabases } from '../infra/postgres-server';
import { type Config, loadConfig, shardUrlsFor } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { Pool } from '../lib/postgres';
import { readGeneration, readRingSize } from '../read-models/postgres/generations';
import { ensureGeneration, generationExists } from '../read-models/postgres/schema';
import { rebuild } from './replay';

/**
 * `orderstream shards add --to <count>`: grows the read model to `count` shard databases by
 * replay. Creates and migrates the new databases, builds the next generation on a ring of
 * `count` shards while the current one serves, switches readers (they route each generation
 * by its own ring), then drops the old generation. Interrupted, run it again.
 */
export async function addShards(count: number): Promise<void> {
  await growShards(loadConfig(), count);
}

export async function growShards(
  config: Config,
  count: number,
  say: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const configured = config.postgres.shardUrls.length;
  if (count > configured) {
    throw new OperatorError(
      config.postgres.shardUrlsFrom === 'POSTGRES_SHARD_URLS'
        ? `POSTGRES_SHARD_URLS lists ${configured} databases: list all ${count} shard databases, in ring order, to grow to ${count}`
        : `POSTGRES_SHARDS is ${configured}: set POSTGRES_SHARDS=${count} to grow to ${count} shards (the new databases are ${config.postgres.databasePrefix}_shard_${configured} …)`,
    );
  }
  // The shards the grown read model uses, and nothing configured beyond them.
  const grown: Config = {
    ...config,
    postgres: {
      ...config.postgres,
      shardUrls: config.postgres.shardUrls.slice(0, count),
      followerShardUrls: config.postgres.followerShardUrls.slice(0, count),
    },
  };
  const shard0 = new Pool({ connectionString: grown.postgres.shardUrls[0], max: 1 });
  let current: number;
  let ring: number;
  try {
    current = await readGeneration(shard0);
    const recorded = await readRingSize(shard0, current).catch((err: { code?: string }) => {
      if (err.code === '42P01') return undefined; // shard 0 not migrated yet: nothing recorded
      throw err;
    });
    ring = recorded ?? (await shardsHolding(grown, current));
  } catch (err) {
    throw new OperatorError(
      `cannot read the read model's generation on shard 0 (${(err as Error).message}): run \`orderstream infra up\` (or migrate the shard databases) first`,
    );
  } finally {
    await shard0.end();
  }
  if (count < ring) {
    throw new OperatorError(
      `the read model uses ${ring} shards (generation ${current}); shrinking to ${count} is not supported`,
    );
  }
  if (count === ring) {
    say(`read-model: generation ${current} already uses ${ring} shards; nothing to do`);
    return;
  }
  const { created } = await ensureShardDatabases(grown);
  if (created.length > 0) say(`read-model: created ${created.join(', ')}`);
  // Readers and projectors of the current generation keep its ring, whatever their config says.
  await ensureGeneration(shardUrlsFor(grown.postgres, ring), current, ring);
  await rebuild({ config: grown, projection: 'read-model', shards: count, say });
}

/**
 * A generation built before rings were recorded lives on the configured shards of its time:
 * the leading shard databases that hold its schema.
 */
async function shardsHolding(config: Config, generation: number): Promise<number> {
  let held = 0;
  for (const url of config.postgres.shardUrls) {
    const db = new Pool({ connectionString: url, max: 1 });
    db.on('error', () => undefined);
    try {
      if (!(await generationExists(db, generation))) break;
    } catch {
      break; // a database not created yet
    } finally {
      await db.end();
    }
    held += 1;
  }
  return Math.max(held, 1);
}
