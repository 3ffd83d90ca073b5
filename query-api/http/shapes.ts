import {
  fromPgJson,
  fromPgText as text,
  fromPgTextOrNull as textOrNull,
} from '../../lib/postgres-text';

/**
 * Read-model rows (projectors/README.md) and the camelCase JSON the query API answers with.
 * Money is `{ amount, currency }` in minor units; timestamps are ISO-8601 in UTC. Rows hold
 * text as lib/postgres-text.ts stores it; the JSON gives it back as the log had it.
 */

export interface Money {
  amount: number;
  currency: string;
}

/** A bigint column (pg returns it as a decimal string) as a JSON number. */
const amount = (value: string | number): number => Number(value);

const iso = (value: Date | string): string => new Date(value).toISOString();

// ---- products ----

export const PRODUCT_COLUMNS = `product_id, sku, name, description, category,
  price_amount::text as price_amount, currency, available, reserved, sold, discontinued,
  version, created_at, updated_at`;

export interface ProductRow {
  product_id: string;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_amount: string;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
  discontinued: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export function productJson(row: ProductRow) {
  return {
    productId: text(row.product_id),
    sku: text(row.sku),
    name: text(row.name),
    description: text(row.description),
    category: text(row.category),
    price: { amount: amount(row.price_amount), currency: text(row.currency) } satisfies Money,
    available: row.available,
    reserved: row.reserved,
    sold: row.sold,
    discontinued: row.discontinued,
    version: row.version,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

// ---- orders ----

export const ORDER_STATUSES = [
  'pending',
  'confirmed',
  'shipped',
  'delivered',
  'returned',
  'cancelled',
] as const;

/**
 * Where the fulfilment saga (DESIGN §6) is with an order, as the read model shows it:
 * `pending_stock` (pending, some line's stock not reserved yet), `pending_payment` (pending,
 * every line reserved: payment next), else the status itself. Everything but the two pending
 * steps is settled: the saga is done with the order.
 */
export const ORDER_PROGRESS = [
  'pending_stock',
  'pending_payment',
  'confirmed',
  'cancelled',
  'shipped',
  'delivered',
  'returned',
] as const;

export type OrderProgress = (typeof ORDER_PROGRESS)[number];

const SETTLED = [
  'confirmed',
  'cancelled',
  'shipped',
  'delivered',
  'returned',
] as const satisfies readonly OrderProgress[];

type SettledProgress = (typeof SETTLED)[number];

function isSettledStatus(status: string): status is SettledProgress {
  return (SETTLED as readonly string[]).includes(status);
}

/** The progress of an order in `status` whose lines are all reserved (`linesReserved`) or not. */
export function orderProgress(status: string, linesReserved: boolean): OrderProgress {
  if (status === 'pending') return linesReserved ? 'pending_payment' : 'pending_stock';
  if (isSettledStatus(status)) return status;
  throw new Error(`order status ${JSON.stringify(status)} is none the read model knows`);
}

/** Is the saga done with the order (nothing will change its progress on its own)? */
export const isSettled = (progress: OrderProgress): boolean => isSettledStatus(progress);

/**
 * `lines_reserved`: no line of the order (alias `o`) waits for its stock, one indexed
 * `not exists` per order (no N+1 queries for a list). `s` is the escaped generation schema.
 */
export const linesReservedColumn = (s: string): string =>
  `not exists (select 1 from ${s}.order_lines r
                where r.order_id = o.order_id and not r.stock_reserved) as lines_reserved`;

/**
 * The columns of `orders` (alias `o`) in the escaped generation schema `s`, with the exact
 * placed-at for keyset cursors and whether every line is reserved (for `progress`).
 */
export const orderColumns = (
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
export const LINE_COLUMNS = `l.line_no, l.product_id as line_product_id, l.quantity,
  l.unit_price_amount::text as unit_price_amount, l.currency as line_currency, l.stock_reserved`;

export interface LineRow {
  line_no: number | null;
  line_product_id: string | null;
  quantity: number | null;
  unit_price_amount: string | null;
  line_currency: string | null;
  stock_reserved: boolean | null;
}

export function orderJson(row: OrderRow) {
  return {
    orderId: text(row.order_id),
    customerId: text(row.customer_id),
    status: row.status,
    progress: orderProgress(row.status, row.lines_reserved),
    total: { amount: amount(row.total_amount), currency: text(row.currency) } satisfies Money,
    paymentId: textOrNull(row.payment_id),
    trackingNumber: textOrNull(row.tracking_number),
    cancelReason: textOrNull(row.cancel_reason),
    returnReason: textOrNull(row.return_reason),
    version: row.version,
    placedAt: iso(row.placed_at),
    updatedAt: iso(row.updated_at),
  };
}

export function lineJson(row: LineRow) {
  return {
    lineNo: row.line_no ?? 0,
    productId: text(row.line_product_id ?? ''),
    quantity: row.quantity ?? 0,
    unitPrice: {
      amount: amount(row.unit_price_amount ?? 0),
      currency: text(row.line_currency ?? ''),
    } satisfies Money,
    stockReserved: row.stock_reserved ?? false,
  };
}

/** One order with its lines, from the rows of `orders o left join order_lines l`. */
export function orderWithLinesJson(rows: readonly (OrderRow & LineRow)[]) {
  const [first] = rows;
  if (!first) throw new Error('no rows for the order');
  return {
    ...orderJson(first),
    lines: rows.filter((r) => r.line_no !== null).map(lineJson),
  };
}

// ---- order history ----

/** A row of `orders o left join order_history h` (the history columns null when it has none). */
export interface HistoryRow {
  customer_id: string;
  event_type: string | null;
  aggregate_version: number | null;
  event_id: string | null;
  occurred_at: Date | null;
  data: Record<string, unknown> | null;
}

export const HISTORY_COLUMNS =
  'o.customer_id, h.event_type, h.aggregate_version, h.event_id, h.occurred_at, h.data';

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
            occurredAt: iso(row.occurred_at),
            data: fromPgJson(row.data ?? {}),
          },
        ],
  );
}

// ---- order status stream ----

/** What `GET /orders/{id}/stream` reads on every poll (`o` in the escaped schema `s`). */
export const orderStatusColumns = (s: string): string =>
  `o.order_id, o.customer_id, o.status, o.cancel_reason, o.version, ${linesReservedColumn(s)}`;

export interface OrderStatusRow {
  order_id: string;
  customer_id: string;
  status: string;
  cancel_reason: string | null;
  version: number;
  lines_reserved: boolean;
}

/** The data of a `status` event of the order stream. */
export function orderStatusJson(row: OrderStatusRow) {
  return {
    orderId: text(row.order_id),
    status: row.status,
    progress: orderProgress(row.status, row.lines_reserved),
    cancelReason: textOrNull(row.cancel_reason),
  };
}
