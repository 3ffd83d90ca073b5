/** The tables of the products read model (read-models/README.md), on the shard of each product. */
export const PRODUCT_TABLES = ['products'] as const;

/** Their DDL in the escaped generation schema `s`, idempotent. */
export const productTablesDdl = (s: string): string => `
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
`;
