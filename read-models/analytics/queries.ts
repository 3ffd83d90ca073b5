import { escapeIdentifier } from 'pg';
import { fromPgText } from '../../lib/postgres-text';
import type { Queryable } from '../postgres/generations';
import { analyticsSchema } from './tables';

/**
 * The analytics read model's queries and the JSON the query API answers with. Counts and
 * amounts are summed in Postgres as bigint and come back as decimal strings: parsed here (a
 * sum of minor units past 2^53 is not expected of one shop's analytics).
 */

export interface SalesMinute {
  minute: string;
  currency: string;
  orders: number;
  units: number;
  revenue: number;
}

export interface CategoryRevenue {
  day: string;
  category: string;
  currency: string;
  units: number;
  revenue: number;
}

export interface TopProduct {
  productId: string;
  name: string | null;
  category: string | null;
  currency: string;
  units: number;
  revenue: number;
}

const table = (generation: number, name: string) =>
  `${escapeIdentifier(analyticsSchema(generation))}.${name}`;

/** Minutes in [from, to) with sales (net of take-backs), oldest first. */
export async function salesPerMinute(
  db: Queryable,
  generation: number,
  from: Date,
  to: Date,
): Promise<SalesMinute[]> {
  const { rows } = await db.query<{
    minute: Date;
    currency: string;
    orders: number;
    units: string;
    revenue: string;
  }>(
    `select minute, currency, orders, units::text, revenue::text
       from ${table(generation, 'sales_per_minute')}
      where minute >= $1 and minute < $2 and orders <> 0
      order by minute, currency`,
    [from, to],
  );
  return rows.map((r) => ({
    minute: r.minute.toISOString(),
    currency: r.currency,
    orders: r.orders,
    units: Number(r.units),
    revenue: Number(r.revenue),
  }));
}

/** Revenue per day (UTC) and category (the product's category now) for days in [from, to]. */
export async function revenuePerCategory(
  db: Queryable,
  generation: number,
  from: string,
  to: string,
): Promise<CategoryRevenue[]> {
  const { rows } = await db.query<{
    day: string;
    category: string;
    currency: string;
    units: string;
    revenue: string;
  }>(
    `select d.day::text as day, coalesce(p.category, '(unknown)') as category, d.currency,
            sum(d.units)::text as units, sum(d.revenue)::text as revenue
       from ${table(generation, 'product_sales_per_day')} d
       left join ${table(generation, 'products')} p using (product_id)
      where d.day between $1::date and $2::date
      group by d.day, coalesce(p.category, '(unknown)'), d.currency
     having sum(d.units) <> 0 or sum(d.revenue) <> 0
      order by d.day, coalesce(p.category, '(unknown)') collate "C", d.currency`,
    [from, to],
  );
  return rows.map((r) => ({
    day: r.day,
    category: fromPgText(r.category),
    currency: r.currency,
    units: Number(r.units),
    revenue: Number(r.revenue),
  }));
}

/** The best-selling products by units over the minutes in [until - windowMinutes, until). */
export async function topProducts(
  db: Queryable,
  generation: number,
  until: Date,
  windowMinutes: number,
  limit: number,
): Promise<TopProduct[]> {
  const { rows } = await db.query<{
    product_id: string;
    name: string | null;
    category: string | null;
    currency: string;
    units: string;
    revenue: string;
  }>(
    `select s.product_id, p.name, p.category, s.currency,
            sum(s.units)::text as units, sum(s.revenue)::text as revenue
       from ${table(generation, 'product_sales_per_minute')} s
       left join ${table(generation, 'products')} p using (product_id)
      where s.minute >= $1::timestamptz - make_interval(mins => $2) and s.minute < $1
      group by 1, 2, 3, 4
     having sum(s.units) > 0
      order by sum(s.units) desc, sum(s.revenue) desc, s.product_id collate "C", s.currency
      limit $3`,
    [until, windowMinutes, limit],
  );
  return rows.map((r) => ({
    productId: fromPgText(r.product_id),
    name: r.name === null ? null : fromPgText(r.name),
    category: r.category === null ? null : fromPgText(r.category),
    currency: r.currency,
    units: Number(r.units),
    revenue: Number(r.revenue),
  }));
}
