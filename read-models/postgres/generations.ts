import type { QueryResult, QueryResultRow } from 'pg';

/** Anything that runs one SQL statement: a pg Pool, Client or PoolClient. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}

/** The projection's name in `public.projection_generations`. */
export const READ_MODEL_PROJECTION = 'read-model';

/** Highest generation a schema name may carry (Postgres `integer`). */
const MAX_GENERATION = 2_147_483_647;

/** Throws unless `generation` is a whole number ≥ 1 (it ends up in schema names). */
export function assertGeneration(generation: number): void {
  if (!Number.isInteger(generation) || generation < 1 || generation > MAX_GENERATION) {
    throw new RangeError(`a generation is a whole number ≥ 1, got ${generation}`);
  }
}

/** The Postgres schema that holds generation `generation` on every shard: `read_model_g<N>`. */
export function schemaFor(generation: number): string {
  assertGeneration(generation);
  return `read_model_g${generation}`;
}

/** The checkpoint name (and ProjectionTarget name) of a generation: `read-model@g<N>`. */
export function readModelName(generation: number): string {
  assertGeneration(generation);
  return `${READ_MODEL_PROJECTION}@g${generation}`;
}

/**
 * The generation readers use, from `public.projection_generations` on shard 0 (pass shard 0's
 * pool); 1 when none was recorded.
 */
export async function readGeneration(
  shard0: Queryable,
  projection: string = READ_MODEL_PROJECTION,
): Promise<number> {
  const { rows } = await shard0.query<{ generation: number }>(
    'select generation from public.projection_generations where projection = $1',
    [projection],
  );
  return rows[0]?.generation ?? 1;
}

/** A read-model generation and the number of shards its ring uses (undefined: not recorded). */
export interface GenerationRing {
  generation: number;
  shards: number | undefined;
}

/**
 * The generation readers use with its ring's size, in one statement (a switch is seen whole):
 * from `public.projection_generations` and `public.read_model_rings` on shard 0.
 */
export async function readGenerationRing(
  shard0: Queryable,
  projection: string = READ_MODEL_PROJECTION,
): Promise<GenerationRing> {
  const { rows } = await shard0.query<{ generation: number; shards: number | null }>(
    `select g.generation, r.shards
       from (select coalesce(
               (select generation from public.projection_generations where projection = $1), 1
             ) as generation) g
       left join public.read_model_rings r on r.generation = g.generation`,
    [projection],
  );
  const row = rows[0];
  return { generation: row?.generation ?? 1, shards: row?.shards ?? undefined };
}

/** The number of shards generation `generation`'s ring uses, if recorded (shard 0). */
export async function readRingSize(
  shard0: Queryable,
  generation: number,
): Promise<number | undefined> {
  assertGeneration(generation);
  const { rows } = await shard0.query<{ shards: number }>(
    'select shards from public.read_model_rings where generation = $1',
    [generation],
  );
  return rows[0]?.shards;
}

/**
 * Points readers at `generation` (blue-green switch) on shard 0; returns the generation they
 * used before (1 when none was recorded). One statement, so readers see the old or the new.
 */
export async function switchGeneration(
  shard0: Queryable,
  generation: number,
  projection: string = READ_MODEL_PROJECTION,
): Promise<number> {
  assertGeneration(generation);
  const { rows } = await shard0.query<{ previous: number | null }>(
    `with previous as (
       select generation from public.projection_generations where projection = $1
     )
     insert into public.projection_generations (projection, generation, switched_at)
     values ($1, $2, now())
     on conflict (projection) do update
       set generation = excluded.generation, switched_at = excluded.switched_at
     returning (select generation from previous) as previous`,
    [projection, generation],
  );
  return rows[0]?.previous ?? 1;
}
