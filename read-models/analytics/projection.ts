import { escapeIdentifier } from 'pg';
import { toPgText } from '../../lib/postgres-text';
import type { Queryable } from '../postgres/generations';
import { pgParam } from '../postgres/statement';
import { type ProjectedEvent, unknownEvent } from '../projected-event';
import { analyticsSchema } from './tables';

/** A counted order line: `amount` = quantity × unit price, minor units. */
interface SaleLine {
  productId: string;
  quantity: number;
  amount: number;
  currency: string;
}

/**
 * How events change the analytics tables (tables.ts). Runs inside the target's transaction,
 * one event at a time in log order per partition; the target serialises applies, so the
 * increments of two partitions never interleave (and never deadlock).
 */
export class AnalyticsProjection {
  private readonly s: string;

  constructor(generation: number) {
    this.s = escapeIdentifier(analyticsSchema(generation));
  }

  async apply(db: Queryable, event: ProjectedEvent): Promise<void> {
    switch (event.type) {
      case 'ProductCreated':
      case 'ProductDetailsUpdated': {
        const { productId, name, category } = event.data;
        await db.query(
          `insert into ${this.s}.products (product_id, name, category) values ($1, $2, $3)
           on conflict (product_id) do update set name = excluded.name, category = excluded.category`,
          [productId, name, category].map(pgParam),
        );
        return;
      }
      case 'OrderPlaced': {
        // Stored as Postgres holds text (jsonb cannot hold NUL): the id as the tables key it.
        const counted: SaleLine[] = event.data.lines.map((l) => ({
          productId: toPgText(l.productId),
          quantity: l.quantity,
          amount: l.quantity * l.unitPrice.amount,
          currency: l.unitPrice.currency,
        }));
        await db.query(
          `insert into ${this.s}.orders (order_id, lines) values ($1, $2)
           on conflict (order_id) do nothing`,
          [pgParam(event.data.orderId), JSON.stringify(counted)],
        );
        return;
      }
      case 'OrderConfirmed':
        return this.confirmed(db, event.data.orderId, event.meta.occurredAt);
      case 'OrderCancelled':
      case 'OrderReturned':
        return this.takenBack(db, event.data.orderId);
      // Nothing a sale is made of: stock, prices, payments, shipping.
      case 'ProductPriceChanged':
      case 'ProductRestocked':
      case 'StockReserved':
      case 'ReservationReleased':
      case 'ReservationCommitted':
      case 'ProductDiscontinued':
      case 'ProductPurchaseLimitSet':
      case 'OrderStockReserved':
      case 'OrderStockRejected':
      case 'OrderPaymentAuthorized':
      case 'OrderPaymentFailed':
      case 'OrderShipped':
      case 'OrderDelivered':
        return;
      default:
        return unknownEvent('analytics', event);
    }
  }

  /** Counts the order at the minute it was confirmed (once, however often it is confirmed). */
  private async confirmed(db: Queryable, orderId: string, at: string): Promise<void> {
    const { rows } = await db.query<{ lines: SaleLine[] }>(
      `update ${this.s}.orders set confirmed_at = $2
        where order_id = $1 and confirmed_at is null
        returning lines`,
      [pgParam(orderId), at],
    );
    const row = rows[0];
    if (row) await this.add(db, row.lines, at, 1);
  }

  /** A counted order cancelled or returned: out of the minute and day it was counted in. */
  private async takenBack(db: Queryable, orderId: string): Promise<void> {
    const { rows } = await db.query<{ lines: SaleLine[]; confirmed_at: Date }>(
      `update ${this.s}.orders set reversed = true
        where order_id = $1 and confirmed_at is not null and not reversed
        returning lines, confirmed_at`,
      [pgParam(orderId)],
    );
    const row = rows[0];
    if (row) await this.add(db, row.lines, row.confirmed_at.toISOString(), -1);
  }

  /** Adds (sign 1) or removes (sign -1) one order's lines at the minute and day of `at`. */
  private async add(db: Queryable, saleLines: SaleLine[], at: string, sign: 1 | -1) {
    const minute = `date_trunc('minute', $1::timestamptz at time zone 'UTC') at time zone 'UTC'`;
    const day = `($1::timestamptz at time zone 'UTC')::date`;
    const perCurrency = new Map<string, { units: number; revenue: number }>();
    for (const line of saleLines) {
      const sum = perCurrency.get(line.currency) ?? { units: 0, revenue: 0 };
      sum.units += line.quantity;
      sum.revenue += line.amount;
      perCurrency.set(line.currency, sum);
    }
    for (const [currency, sum] of perCurrency) {
      await db.query(
        `insert into ${this.s}.sales_per_minute as t (minute, currency, orders, units, revenue)
         values (${minute}, $2, $3, $4, $5)
         on conflict (minute, currency) do update set orders = t.orders + excluded.orders,
           units = t.units + excluded.units, revenue = t.revenue + excluded.revenue`,
        [at, currency, sign, sign * sum.units, sign * sum.revenue],
      );
    }
    for (const line of saleLines) {
      const values = [at, line.productId, line.currency, sign * line.quantity, sign * line.amount];
      await db.query(
        `insert into ${this.s}.product_sales_per_minute as t (minute, product_id, currency, units, revenue)
         values (${minute}, $2, $3, $4, $5)
         on conflict (minute, product_id, currency) do update
           set units = t.units + excluded.units, revenue = t.revenue + excluded.revenue`,
        values,
      );
      await db.query(
        `insert into ${this.s}.product_sales_per_day as t (day, product_id, currency, units, revenue)
         values (${day}, $2, $3, $4, $5)
         on conflict (day, product_id, currency) do update
           set units = t.units + excluded.units, revenue = t.revenue + excluded.revenue`,
        values,
      );
    }
  }
}
