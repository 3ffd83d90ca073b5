import { createHash } from 'node:crypto';
import { escapeIdentifier } from 'pg';
import { toPgJson, toPgText } from '../../lib/postgres-text';
import type { ProjectedEvent } from '../runtime/projection';
import { schemaFor } from './generations';

/**
 * How each event changes the read model (projectors/README.md, "How events change rows"),
 * as one parameterised statement per event. Every statement is guarded by the aggregate
 * version (`version < $v`), so an event never lands twice even if the log held it twice.
 * Text is stored as lib/postgres-text.ts encodes it: an event holding NUL is stored, not set
 * aside, so the read model never disagrees with the log for an event's content.
 */

/** An event this model cannot take (bad fields, unknown type, missing row): never retry it. */
export class ModelViolation extends Error {
  override name = 'ModelViolation';
}

/** Which key routes an event to its shard: product events by product, order events by customer. */
export type RouteKind = 'product' | 'customer';

export interface PlannedEvent {
  route: RouteKind;
  /** The key to hash on the ring (productId or customerId). */
  routeKey: string;
  /** Prepared-statement name (one per distinct text), so each connection plans it once. */
  name: string;
  text: string;
  values: unknown[];
  /** When set, the statement must change (or return) a row; if it does not, this is why. */
  mustAffect?: string;
}

/** A planned event before it is named. */
type Statement = Omit<PlannedEvent, 'name'>;

// ---- field readers: a wrong field is a model violation, named after the field ----

type Data = Record<string, unknown>;

function text(data: Data, field: string): string {
  const value = data[field];
  if (typeof value !== 'string') throw new ModelViolation(`${field} must be a string`);
  return value;
}

function id(data: Data, field: string): string {
  const value = text(data, field);
  if (value === '') throw new ModelViolation(`${field} must not be empty`);
  return value;
}

function nullableText(data: Data, field: string): string | null {
  return data[field] === null || data[field] === undefined ? null : text(data, field);
}

const MAX_INT = 2_147_483_647;

function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_INT) {
    throw new ModelViolation(`${field} must be a whole number from 0 to ${MAX_INT}`);
  }
  return value;
}

function money(value: unknown, field: string): { amount: number; currency: string } {
  if (typeof value !== 'object' || value === null) {
    throw new ModelViolation(`${field} must be money ({ amount, currency })`);
  }
  const { amount, currency } = value as Data;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 0) {
    throw new ModelViolation(`${field}.amount must be a whole number of minor units ≥ 0`);
  }
  if (typeof currency !== 'string' || currency === '') {
    throw new ModelViolation(`${field}.currency must be a currency code`);
  }
  return { amount, currency };
}

function lines(data: Data) {
  const value = data.lines;
  if (!Array.isArray(value) || value.length === 0) {
    throw new ModelViolation('lines must be a non-empty list');
  }
  return value.map((line: unknown, i) => {
    if (typeof line !== 'object' || line === null) {
      throw new ModelViolation(`lines[${i}] must be an object`);
    }
    const l = line as Data;
    return {
      productId: id(l, 'productId'),
      quantity: count(l.quantity, `lines[${i}].quantity`),
      unitPrice: money(l.unitPrice, `lines[${i}].unitPrice`),
    };
  });
}

function version(event: ProjectedEvent): number {
  const v = event.meta?.aggregateVersion;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_INT) {
    throw new ModelViolation('meta.aggregateVersion must be a whole number ≥ 1');
  }
  return v;
}

function occurredAt(event: ProjectedEvent): string {
  const at = event.meta?.occurredAt;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) {
    throw new ModelViolation('meta.occurredAt must be an ISO-8601 timestamp');
  }
  return at;
}

/** Event data as JSON for `order_history.data`; bigints (never expected) as decimal strings. */
function dataJson(data: Data): string {
  return JSON.stringify(toPgJson(data), (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/** A statement parameter as Postgres can hold it: text (in arrays too) encoded. */
function pgParam(value: unknown): unknown {
  if (typeof value === 'string') return toPgText(value);
  return Array.isArray(value) ? value.map(pgParam) : value;
}

// ---- statements ----

/** The SQL of one generation's schema; build once per target. */
export class ReadModelStatements {
  readonly schema: string;
  private readonly products: string;
  private readonly orders: string;
  private readonly lines: string;
  private readonly history: string;
  /** Statement text → prepared-statement name. */
  private readonly names = new Map<string, string>();

  constructor(generation: number) {
    this.schema = schemaFor(generation);
    const s = escapeIdentifier(this.schema);
    this.products = `${s}.products`;
    this.orders = `${s}.orders`;
    this.lines = `${s}.order_lines`;
    this.history = `${s}.order_history`;
  }

  /** The statement that applies `event`; throws ModelViolation when it cannot be applied. */
  plan(event: ProjectedEvent): PlannedEvent {
    const planned = this.statementFor(event);
    let name = this.names.get(planned.text);
    if (name === undefined) {
      name = `read_model_${createHash('sha1').update(planned.text).digest('hex').slice(0, 20)}`;
      this.names.set(planned.text, name);
    }
    return { ...planned, values: planned.values.map(pgParam), name };
  }

  private statementFor(event: ProjectedEvent): Statement {
    const data: Data = event.data ?? {};
    switch (event.type) {
      case 'ProductCreated':
        return this.productCreated(event, data);
      case 'ProductDetailsUpdated':
        return this.productUpdate(event, data, 'name = $4, description = $5, category = $6', [
          text(data, 'name'),
          text(data, 'description'),
          text(data, 'category'),
        ]);
      case 'ProductPriceChanged': {
        const price = money(data.price, 'price');
        return this.productUpdate(event, data, 'price_amount = $4, currency = $5', [
          price.amount,
          price.currency,
        ]);
      }
      case 'ProductRestocked':
        return this.productUpdate(event, data, 'available = $4', [
          count(data.available, 'available'),
        ]);
      case 'StockReserved':
        return this.productUpdate(event, data, 'available = $4, reserved = reserved + $5', [
          count(data.available, 'available'),
          count(data.quantity, 'quantity'),
        ]);
      case 'ReservationReleased':
        return this.productUpdate(event, data, 'available = $4, reserved = reserved - $5', [
          count(data.available, 'available'),
          count(data.quantity, 'quantity'),
        ]);
      case 'ReservationCommitted':
        return this.productUpdate(event, data, 'reserved = reserved - $4, sold = sold + $4', [
          count(data.quantity, 'quantity'),
        ]);
      case 'ProductDiscontinued':
        return this.productUpdate(event, data, 'discontinued = true', []);
      case 'OrderPlaced':
        return this.orderPlaced(event, data);
      case 'OrderStockReserved':
        return this.orderStockReserved(event, data);
      case 'OrderStockRejected':
        return this.orderUpdate(event, data, '', []);
      case 'OrderPaymentAuthorized':
        return this.orderUpdate(event, data, 'payment_id = $11', [id(data, 'paymentId')]);
      case 'OrderPaymentFailed':
        // The latest word on payment wins (domain/README.md): a failure withdraws the authorization.
        return this.orderUpdate(event, data, 'payment_id = null', []);
      case 'OrderConfirmed':
        return this.orderUpdate(event, data, "status = 'confirmed'", []);
      case 'OrderShipped':
        return this.orderUpdate(event, data, "status = 'shipped', tracking_number = $11", [
          nullableText(data, 'trackingNumber'),
        ]);
      case 'OrderDelivered':
        return this.orderUpdate(event, data, "status = 'delivered'", []);
      case 'OrderCancelled':
        return this.orderUpdate(event, data, "status = 'cancelled', cancel_reason = $11", [
          text(data, 'reason'),
        ]);
      case 'OrderReturned':
        return this.orderUpdate(event, data, "status = 'returned', return_reason = $11", [
          text(data, 'reason'),
        ]);
      default:
        throw new ModelViolation(`the read model does not know event type ${event.type}`);
    }
  }

  private productCreated(event: ProjectedEvent, data: Data): Statement {
    const productId = id(data, 'productId');
    const price = money(data.price, 'price');
    const at = occurredAt(event);
    return {
      route: 'product',
      routeKey: productId,
      text: `insert into ${this.products} (product_id, sku, name, description, category,
               price_amount, currency, available, reserved, sold, discontinued, version,
               created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, false, $9, $10, $10)`,
      values: [
        productId,
        text(data, 'sku'),
        text(data, 'name'),
        text(data, 'description'),
        text(data, 'category'),
        price.amount,
        price.currency,
        count(data.initialStock, 'initialStock'),
        version(event),
        at,
      ],
    };
  }

  /** $1 product id, $2 version, $3 occurred-at, $4… the event's own values. */
  private productUpdate(
    event: ProjectedEvent,
    data: Data,
    assignments: string,
    values: unknown[],
  ): Statement {
    const productId = id(data, 'productId');
    const v = version(event);
    return {
      route: 'product',
      routeKey: productId,
      text: `update ${this.products}
                set ${assignments}, version = $2, updated_at = $3
              where product_id = $1 and version < $2`,
      values: [productId, v, occurredAt(event), ...values],
      mustAffect: `no product ${productId} below version ${v}`,
    };
  }

  /**
   * $1 order id, $2 customer id, $3 version, $4 occurred-at, $5 type, $6 event id, $7 data,
   * $8 topic, $9 partition, $10 offset — the order_history row's values.
   */
  private orderParams(event: ProjectedEvent, data: Data) {
    const orderId = id(data, 'orderId');
    const customerId = id(data, 'customerId');
    const eventId = event.meta?.eventId;
    if (typeof eventId !== 'string' || eventId === '') {
      throw new ModelViolation('meta.eventId must be a non-empty string');
    }
    const values = [
      orderId,
      customerId,
      version(event),
      occurredAt(event),
      event.type,
      eventId,
      dataJson(data),
      event.topic,
      event.partition,
      event.offset,
    ];
    return { orderId, customerId, values };
  }

  private historyInsert(from: string): string {
    return `insert into ${this.history} (order_id, aggregate_version, event_type, event_id, data,
               occurred_at, topic, partition, "offset")
             select order_id, $3::integer, $5::text, $6::text, $7::jsonb, $4::timestamptz, $8::text,
                    $9::integer, $10::bigint
               from ${from}
             returning 1`;
  }

  private orderPlaced(event: ProjectedEvent, data: Data): Statement {
    const { customerId, values } = this.orderParams(event, data);
    const total = money(data.total, 'total');
    const ls = lines(data);
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with placed as (
               insert into ${this.orders} (order_id, customer_id, status, total_amount, currency,
                 version, placed_at, updated_at)
               values ($1, $2, 'pending', $11, $12, $3, $4, $4)
               returning order_id
             ), placed_lines as (
               insert into ${this.lines} (order_id, line_no, product_id, quantity,
                 unit_price_amount, currency)
               select placed.order_id, l.ord - 1, l.product_id, l.quantity, l.amount, l.currency
                 from placed,
                      unnest($13::text[], $14::integer[], $15::bigint[], $16::text[])
                        with ordinality as l (product_id, quantity, amount, currency, ord)
             )
             ${this.historyInsert('placed')}`,
      values: [
        ...values,
        total.amount,
        total.currency,
        ls.map((l) => l.productId),
        ls.map((l) => l.quantity),
        ls.map((l) => l.unitPrice.amount),
        ls.map((l) => l.unitPrice.currency),
      ],
      mustAffect: 'the order was not inserted',
    };
  }

  private orderStockReserved(event: ProjectedEvent, data: Data): Statement {
    const { orderId, customerId, values } = this.orderParams(event, data);
    const productId = id(data, 'productId');
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with line as (
               update ${this.lines} set stock_reserved = true
                where order_id = $1 and product_id = $11
               returning order_id
             ), changed as (
               update ${this.orders} set version = $3, updated_at = $4
                where order_id = $1 and customer_id = $2 and version < $3
                  and exists (select 1 from line)
               returning order_id
             )
             ${this.historyInsert('changed')}`,
      values: [...values, productId],
      mustAffect: `no order ${orderId} of customer ${customerId} below version ${values[2]} with a line for product ${productId}`,
    };
  }

  /** Sets `assignments` ($11… the event's own values) plus version and updated_at; adds history. */
  private orderUpdate(
    event: ProjectedEvent,
    data: Data,
    assignments: string,
    extra: unknown[],
  ): Statement {
    const { orderId, customerId, values } = this.orderParams(event, data);
    const set = assignments === '' ? '' : `${assignments}, `;
    return {
      route: 'customer',
      routeKey: customerId,
      text: `with changed as (
               update ${this.orders} set ${set}version = $3, updated_at = $4
                where order_id = $1 and customer_id = $2 and version < $3
               returning order_id
             )
             ${this.historyInsert('changed')}`,
      values: [...values, ...extra],
      mustAffect: `no order ${orderId} of customer ${customerId} below version ${values[2]}`,
    };
  }
}
