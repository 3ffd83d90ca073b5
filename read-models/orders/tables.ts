/**
 * The tables of the orders read model (read-models/README.md), on the shard of each order's
 * customer: the order, its lines, and its history (every order event, decoded, in log order).
 */
export const ORDER_TABLES = ['orders', 'order_lines', 'order_history'] as const;

/** Their DDL in the escaped generation schema `s`, idempotent. */
export const orderTablesDdl = (s: string): string => `
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
