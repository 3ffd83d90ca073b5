import { escapeIdentifier, type QueryResultRow } from 'pg';
import {
  isSettledProgress,
  type Money,
  ORDER_STATUSES,
  type OrderStatus,
  orderProgress,
} from '../../domain';
import {
  fromPgJson,
  fromPgText as text,
  fromPgTextOrNull as textOrNull,
  toPgText,
} from '../../lib/postgres-text';
import { isoTime, minorUnits } from '../postgres/columns';
import type { Queryable } from '../postgres/generations';

/**
 * The orders read model's queries (read-models/README.md) and the camelCase JSON the query API
 * answers with; statuses and progress are the domain's (domain/order/). Each runs on one shard
 * in the generation schema the caller picked; rows hold text as lib/postgres-text.ts stores
 * it, and the JSON gives it back as the log had it.
 */

/** A status column: one the projection writes, else the read model is broken (500). */
function statusOf(value: string): OrderStatus {
  const status = ORDER_STATUSES.find((s) => s === value);
  if (status === undefined) {
    throw new Error(`order status ${JSON.stringify(value)} is none the read model knows`);
  }
  return status;
}

function progressOf(row: { status: string; lines_reserved: boolean }) {
  const status = statusOf(row.status);
  return { status, progress: orderProgress(status, row.lines_reserved) };
}

/**
 * `lines_reserved`: no line of the order (alias `o`) waits for its stock, one indexed
 * `not exists` per order (no N+1 queries for a list). `s` is the escaped generation schema.
 */
const linesReservedColumn = (s: string): string =>
  `not exists (select 1 from ${s}.order_lines r
                where r.order_id = o.order_id and not r.stock_reserved) as lines_reserved`;

/**
 * The columns of `orders` (alias `o`) in the escaped generation schema `s`, with the exact
 * placed-at for keyset cursors and whether every line is reserved (for `progress`).
 */
const orderColumns = (
  s: string,
) => `o.order_id, o.customer_id, o.status, o.total_amount::text as total_amount,
  o.currency, o.payment_id, o.tracking_number, o.cancel_reason, o.return_reason, o.version,
  o.placed_at, o.updated_at,
  to_char(o.placed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as placed_at_exact,
  ${linesReservedColumn(s)}`;

export interface OrderRow {
  order_id: string;
  customer_id: string;
  status: string;
  total_amount: string;
  currency: string;
  payment_id: string | null;
  tracking_number: string | null;
  cancel_reason: string | null;
  return_reason: string | null;
  version: number;
  placed_at: Date;
  updated_at: Date;
  placed_at_exact: string;
  lines_reserved: boolean;
}

/** The columns of `order_lines` (alias `l`), null when an order has none (left join). */
const LINE_COLUMNS = `l.line_no, l.product_id as line_product_id, l.quantity,
  l.unit_price_amount::text as unit_price_amount, l.currency as line_currency, l.stock_reserved`;

export interface LineRow {
  line_no: number | null;
  line_product_id: string | null;
  quantity: number | null;
  unit_price_amount: string | null;
  line_currency: string | null;
  stock_reserved: boolean | null;
}

/** A row of `orders o left join order_history h` (the history columns null when it has none). */
export interface HistoryRow {
  customer_id: string;
  event_type: string | null;
  aggregate_version: number | null;
  event_id: string | null;
  occurred_at: Date | null;
  data: Record<string, unknown> | null;
}

const HISTORY_COLUMNS =
  'o.customer_id, h.event_type, h.aggregate_version, h.event_id, h.occurred_at, h.data';

export interface OrderStatusRow {
  order_id: string;
  customer_id: string;
  status: string;
  cancel_reason: string | null;
  version: number;
  lines_reserved: boolean;
}

// ---- queries (the rows of one shard; every row carries the order's customer_id) ----

/**
 * The rows of `orders o left join <s>.<table> <alias>` for one order, in `orderBy` order: one row
 * per joined row, or one with the joined columns null when the order has none.
 */
async function orderJoined<R extends QueryResultRow>(
  db: Queryable,
  schema: string,
  orderId: string,
  columns: (s: string) => string,
  join: { table: string; alias: string; orderBy: string },
): Promise<R[]> {
  const s = escapeIdentifier(schema);
  const { table, alias, orderBy } = join;
  const { rows } = await db.query<R>(
    `select ${columns(s)}
       from ${s}.orders o
       left join ${s}.${table} ${alias} on ${alias}.order_id = o.order_id
      where o.order_id = $1
      order by ${orderBy}`,
    [toPgText(orderId)],
  );
  return rows;
}

/** The order with its lines (one row per line; one row with null lines when it has none). */
export const orderWithLines = (db: Queryable, schema: string, orderId: string) =>
  orderJoined<OrderRow & LineRow>(
    db,
    schema,
    orderId,
    (s) => `${orderColumns(s)}, ${LINE_COLUMNS}`,
    {
      table: 'order_lines',
      alias: 'l',
      orderBy: 'l.line_no',
    },
  );

/** The order's history in version order (one row with null history when it has none). */
export const orderHistory = (db: Queryable, schema: string, orderId: string) =>
  orderJoined<HistoryRow>(db, schema, orderId, () => HISTORY_COLUMNS, {
    table: 'order_history',
    alias: 'h',
    orderBy: 'h.aggregate_version',
  });

/** Where a customer's listing (`order by placed_at desc, order_id desc`) continues after. */
export interface OrderKey {
  /** The exact placed-at, to the microsecond, UTC: `2025-01-31T12:00:00.123456Z`. */
  placedAt: string;
  orderId: string;
}

/** `take` orders of the customer, newest first, after `filter.after`, in `filter.status` if given. */
export async function customerOrders(
  db: Queryable,
  schema: string,
  customerId: string,
  filter: { status?: OrderStatus; after?: OrderKey },
  take: number,
): Promise<OrderRow[]> {
  const values: unknown[] = [toPgText(customerId)];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = ['o.customer_id = $1'];
  if (filter.status) where.push(`o.status = ${param(filter.status)}`);
  if (filter.after) {
    where.push(
      `(o.placed_at, o.order_id) < (${param(filter.after.placedAt)}::timestamptz, ${param(filter.after.orderId)}::text)`,
    );
  }
  const s = escapeIdentifier(schema);
  const { rows } = await db.query<OrderRow>(
    `select ${orderColumns(s)}
       from ${s}.orders o
      where ${where.join(' and ')}
      order by o.placed_at desc, o.order_id desc
      limit ${param(take)}`,
    values,
  );
  return rows;
}

/** The key a customer's listing continues after this row with. */
export const orderKey = (row: OrderRow): OrderKey => ({
  placedAt: row.placed_at_exact,
  orderId: row.order_id,
});

/** What `GET /orders/{id}/stream` reads on every poll: the order's status row, or undefined. */
export async function orderStatus(
  db: Queryable,
  schema: string,
  orderId: string,
): Promise<OrderStatusRow | undefined> {
  const s = escapeIdentifier(schema);
  const { rows } = await db.query<OrderStatusRow>(
    `select o.order_id, o.customer_id, o.status, o.cancel_reason, o.version, ${linesReservedColumn(s)}
       from ${s}.orders o where o.order_id = $1`,
    [toPgText(orderId)],
  );
  return rows[0];
}

// ---- answers ----

export function orderJson(row: OrderRow) {
  return {
    orderId: text(row.order_id),
    customerId: text(row.customer_id),
    ...progressOf(row),
    total: { amount: minorUnits(row.total_amount), currency: text(row.currency) } satisfies Money,
    paymentId: textOrNull(row.payment_id),
    trackingNumber: textOrNull(row.tracking_number),
    cancelReason: textOrNull(row.cancel_reason),
    returnReason: textOrNull(row.return_reason),
    version: row.version,
    placedAt: isoTime(row.placed_at),
    updatedAt: isoTime(row.updated_at),
  };
}

function lineJson(row: LineRow) {
  return {
    lineNo: row.line_no ?? 0,
    productId: text(row.line_product_id ?? ''),
    quantity: row.quantity ?? 0,
    unitPrice: {
      amount: minorUnits(row.unit_price_amount ?? 0),
      currency: text(row.line_currency ?? ''),
    } satisfies Money,
    stockReserved: row.stock_reserved ?? false,
  };
}

/** One order with its lines, from the rows of orderWithLines. */
export function orderWithLinesJson(rows: readonly (OrderRow & LineRow)[]) {
  const [first] = rows;
  if (!first) throw new Error('no rows for the order');
  return {
    ...orderJson(first),
    lines: rows.filter((r) => r.line_no !== null).map(lineJson),
  };
}

/** The history entries of the rows, in their order. */
export function historyJson(rows: readonly HistoryRow[]) {
  return rows.flatMap((row) =>
    row.event_type === null || row.aggregate_version === null || row.occurred_at === null
      ? []
      : [
          {
            type: text(row.event_type),
            aggregateVersion: row.aggregate_version,
            eventId: text(row.event_id ?? ''),
            occurredAt: isoTime(row.occurred_at),
            data: fromPgJson(row.data ?? {}),
          },
        ],
  );
}

/** The data of a `status` event of the order stream, and whether fulfilment is done with it. */
export function orderStatusJson(row: OrderStatusRow) {
  const { status, progress } = progressOf(row);
  return {
    orderId: text(row.order_id),
    status,
    progress,
    cancelReason: textOrNull(row.cancel_reason),
  };
}

/** Is fulfilment done with the order whose status event this is? */
export const isSettled = (data: ReturnType<typeof orderStatusJson>): boolean =>
  isSettledProgress(data.progress);
