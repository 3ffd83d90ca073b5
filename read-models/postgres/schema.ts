import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { ORDER_TABLES, orderTablesDdl } from '../orders/tables';
import { PRODUCT_TABLES, productTablesDdl } from '../products/tables';
import { type Queryable, readModelName, schemaFor } from './generations';

/** The tables of one generation: the products and the orders read models'. */
export const READ_MODEL_TABLES = [...PRODUCT_TABLES, ...ORDER_TABLES] as const;
export type ReadModelTable = (typeof READ_MODEL_TABLES)[number];

/** Serialises DDL on a shard: concurrent `create … if not exists` can collide in the catalog. */
const DDL_LOCK = "select pg_advisory_xact_lock(hashtext('orderstream.read-model.ddl'));";

/**
 * The DDL of generation `generation` (schema `read_model_g<N>` and its tables and indexes),
 * idempotent. Sent as one simple query, so it runs as one transaction under the DDL lock.
 * With `shards`, also records the size of the generation's ring unless one is recorded already
 * (a generation's ring never changes).
 */
export function generationDdl(generation: number, shards?: number): string {
  const s = escapeIdentifier(schemaFor(generation));
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1)) {
    throw new RangeError(`a ring has a whole number ≥ 1 of shards, got ${shards}`);
  }
  const ring =
    shards === undefined
      ? ''
      : `insert into public.read_model_rings (generation, shards)
values (${generation}, ${shards}) on conflict (generation) do nothing;`;
  return `${DDL_LOCK}
create schema if not exists ${s};

${productTablesDdl(s)}
${orderTablesDdl(s)}
${ring}`;
}

/** Creates generation `generation` on one shard if it is missing (safe to race). */
export async function createGenerationSchema(
  shard: Queryable,
  generation: number,
  shards?: number,
): Promise<void> {
  await shard.query(generationDdl(generation, shards));
}

/**
 * Drops generation `generation` from one shard: its schema, the checkpoints of `projection`
 * (default `read-model@g<N>`) and its ring's size, in one transaction.
 */
export async function dropGenerationSchema(
  shard: Queryable,
  generation: number,
  projection: string = readModelName(generation),
): Promise<void> {
  await shard.query(
    `${DDL_LOCK}
drop schema if exists ${escapeIdentifier(schemaFor(generation))} cascade;
delete from public.projection_checkpoints where projection = ${escapeLiteral(projection)};
delete from public.read_model_rings where generation = ${generation};`,
  );
}

/** Does generation `generation` exist on this shard? */
export async function generationExists(shard: Queryable, generation: number): Promise<boolean> {
  const { rowCount } = await shard.query('select 1 from pg_namespace where nspname = $1', [
    schemaFor(generation),
  ]);
  return (rowCount ?? 0) > 0;
}

async function onEveryShard(
  shardUrls: readonly string[],
  work: (shard: Client) => Promise<void>,
): Promise<void> {
  await Promise.all(
    shardUrls.map(async (connectionString) => {
      const client = new Client({ connectionString, connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        await work(client);
      } finally {
        await client.end().catch(() => undefined);
      }
    }),
  );
}

/**
 * Creates generation `generation` on every shard where it is missing; with `shards`, records
 * its ring's size (see generationDdl).
 */
export function ensureGeneration(
  shardUrls: readonly string[],
  generation: number,
  shards?: number,
): Promise<void> {
  return onEveryShard(shardUrls, (shard) => createGenerationSchema(shard, generation, shards));
}

/**
 * Drops generation `generation` (schema and checkpoints) from every shard. Readers must have
 * been switched to another generation first (see switchGeneration).
 */
export function dropGeneration(
  shardUrls: readonly string[],
  generation: number,
  projection: string = readModelName(generation),
): Promise<void> {
  return onEveryShard(shardUrls, (shard) => dropGenerationSchema(shard, generation, projection));
}
