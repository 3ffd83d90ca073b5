import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { type Queryable, readModelName, schemaFor } from './generations';

/** The tables of one generation, as projectors/README.md specifies them. */
export const READ_MODEL_TABLES = ['products', 'orders', 'order_lines', 'order_history'] as const;
export type ReadModelTable = (typeof READ_MODEL_TABLES)[number];

/** Serialises DDL on a shard: concurrent `create … if not exists` can collide in the catalog. */
const DDL_LOCK = "select pg_advisory_xact_lock(hashtext('orderstream.read-model.ddl'));";

/**
 * The DDL of generation `generation` (schema `read_model_g<N>` and its tables and indexes),
 * idempotent. Sent as one simple query, so it runs as one transaction under the DDL lock.
 */
export function generationDdl(generation: number): string {
  const s = escapeIdentifier(schemaFor(generation));
  return `${DDL_LOCK}
create schema if not exists ${s};

create table if not exists ${s}.products (
  product_id    text primary key,
  sku           text not null,
  name          text not null,
  description   text not null,
  category      text not null,
  price_amount  bigint not null,
  currency      text not null,
  available     integer not null,
  reserved      integer not null,
  sold          integer not null,
  discontinued  boolean not null,
  version       integer not null,
  created_at    timestamptz not null,
  updated_at    timestamptz not null
);
create index if not exists products_by_price on ${s}.products (price_amount, product_id);
create index if not exists products_by_category on ${s}.products (category, price_amount, product_id);

create table if not exists ${s}.orders (
  order_id        text primary key,
  customer_id     text not null,
  status          text not null,
  total_amount    bigint not null,
  currency        text not null,
  payment_id      text,
  tracking_number text,
  cancel_reason   text,
  return_reason   text,
  version         integer not null,
  placed_at       timestamptz not null,
  updated_at      timestamptz not null
);
create index if not exists orders_by_customer on ${s}.orders (customer_id, placed_at desc, order_id desc);

create table if not exists ${s}.order_lines (
  order_id          text not null references ${s}.orders (order_id) on delete cascade,
  line_no           integer not null,
  product_id        text not null,
  quantity          integer not null,
  unit_price_amount bigint not null,
  currency          text not null,
  stock_reserved    boolean not null default false,
  primary key (order_id, line_no)
);

create table if not exists ${s}.order_history (
  order_id          text not null,
  aggregate_version integer not null,
  event_type        text not null,
  event_id          text not null,
  data              jsonb not null,
  occurred_at       timestamptz not null,
  topic             text not null,
  partition         integer not null,
  "offset"          bigint not null,
  primary key (order_id, aggregate_version)
);
`;
}

/** Creates generation `generation` on one shard if it is missing (safe to race). */
export async function createGenerationSchema(shard: Queryable, generation: number): Promise<void> {
  await shard.query(generationDdl(generation));
}

/**
 * Drops generation `generation` from one shard: its schema and the checkpoints of
 * `projection` (default `read-model@g<N>`), in one transaction.
 */
export async function dropGenerationSchema(
  shard: Queryable,
  generation: number,
  projection: string = readModelName(generation),
): Promise<void> {
  await shard.query(
    `${DDL_LOCK}
drop schema if exists ${escapeIdentifier(schemaFor(generation))} cascade;
delete from public.projection_checkpoints where projection = ${escapeLiteral(projection)};`,
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

/** Creates generation `generation` on every shard where it is missing. */
export function ensureGeneration(shardUrls: readonly string[], generation: number): Promise<void> {
  return onEveryShard(shardUrls, (shard) => createGenerationSchema(shard, generation));
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
