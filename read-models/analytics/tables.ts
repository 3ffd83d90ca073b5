import { escapeIdentifier } from 'pg';
import { assertGeneration } from '../postgres/generations';

/**
 * The analytics read model (read-models/README.md, "Analytics"): sales aggregates in one
 * database (shard 0), schema `analytics_g<N>`, its generation pointer `analytics` in
 * `public.projection_generations`. A sale is a confirmed order, counted at the minute (UTC) of
 * its confirmation; cancelling or returning a confirmed order takes it back out of that minute.
 */

export const ANALYTICS_PROJECTION = 'analytics';

/** `analytics_g<N>`. */
export function analyticsSchema(generation: number): string {
  assertGeneration(generation);
  return `analytics_g${generation}`;
}

/** The checkpoint name (and ProjectionTarget name): `analytics@g<N>`. */
export function analyticsName(generation: number): string {
  assertGeneration(generation);
  return `${ANALYTICS_PROJECTION}@g${generation}`;
}

/** Serialises this model's DDL (concurrent `create … if not exists` can collide in the catalog). */
const DDL_LOCK = "select pg_advisory_xact_lock(hashtext('orderstream.analytics.ddl'));";

/** The DDL of generation `generation`, idempotent, one simple query (one transaction). */
export function analyticsDdl(generation: number): string {
  const s = escapeIdentifier(analyticsSchema(generation));
  return `${DDL_LOCK}
create schema if not exists ${s};
-- The category and name each product has now (revenue per category is read through it).
create table if not exists ${s}.products (
  product_id text primary key,
  name       text not null,
  category   text not null
);
-- Orders placed and not yet counted, or counted (confirmed_at) and maybe taken back (reversed).
create table if not exists ${s}.orders (
  order_id     text primary key,
  lines        jsonb not null,         -- [{productId, quantity, amount, currency}], amount = quantity × unit price
  confirmed_at timestamptz,
  reversed     boolean not null default false
);
create table if not exists ${s}.sales_per_minute (
  minute   timestamptz not null,
  currency text not null,
  orders   integer not null,
  units    bigint not null,
  revenue  bigint not null,            -- minor units
  primary key (minute, currency)
);
create table if not exists ${s}.product_sales_per_minute (
  minute     timestamptz not null,
  product_id text not null,
  currency   text not null,
  units      bigint not null,
  revenue    bigint not null,
  primary key (minute, product_id, currency)
);
create table if not exists ${s}.product_sales_per_day (
  day        date not null,
  product_id text not null,
  currency   text not null,
  units      bigint not null,
  revenue    bigint not null,
  primary key (day, product_id, currency)
);`;
}

/** Drops generation `generation` and its checkpoints, in one transaction. */
export function dropAnalyticsDdl(generation: number): string {
  return `${DDL_LOCK}
drop schema if exists ${escapeIdentifier(analyticsSchema(generation))} cascade;
delete from public.projection_checkpoints where projection = '${analyticsName(generation)}';`;
}
