import { escapeIdentifier } from 'pg';
import type { Money } from '../../domain';
import { fromPgText as text, toPgText } from '../../lib/postgres-text';
import { compareDecimal, compareText } from '../keyset';
import { isoTime, minorUnits } from '../postgres/columns';
import type { Queryable } from '../postgres/generations';

/**
 * The products read model's queries (read-models/README.md) and the camelCase JSON the query
 * API answers with. Each runs on one shard in the generation schema the caller picked; rows hold
 * text as lib/postgres-text.ts stores it, and the JSON gives it back as the log had it.
 */

const PRODUCT_COLUMNS = `product_id, sku, name, description, category,
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

/** Where a listing (`order by price_amount, product_id`) continues after. */
export interface ProductKey {
  priceAmount: string;
  productId: string;
}

export interface ProductFilter {
  category?: string;
  /** Minor units, decimal. */
  minPrice?: string;
  maxPrice?: string;
  after?: ProductKey;
}

/** The product `productId` on this shard, or undefined. */
export async function productById(
  db: Queryable,
  schema: string,
  productId: string,
): Promise<ProductRow | undefined> {
  const { rows } = await db.query<ProductRow>(
    `select ${PRODUCT_COLUMNS} from ${escapeIdentifier(schema)}.products where product_id = $1`,
    [toPgText(productId)],
  );
  return rows[0];
}

/**
 * One shard's page of the listing of products not discontinued: `take` rows after
 * `filter.after`, in key order (compareProducts), for merging with the other shards' pages.
 */
export async function productPage(
  db: Queryable,
  schema: string,
  filter: ProductFilter,
  take: number,
): Promise<ProductRow[]> {
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const where = ['not discontinued'];
  if (filter.category !== undefined) where.push(`category = ${param(toPgText(filter.category))}`);
  if (filter.minPrice !== undefined)
    where.push(`price_amount >= ${param(filter.minPrice)}::bigint`);
  if (filter.maxPrice !== undefined)
    where.push(`price_amount <= ${param(filter.maxPrice)}::bigint`);
  if (filter.after) {
    const price = param(filter.after.priceAmount);
    const id = param(filter.after.productId);
    // The first condition lets the price index bound the scan; the second is the keyset.
    where.push(
      `price_amount >= ${price}::bigint`,
      `(price_amount, product_id collate "C") > (${price}::bigint, ${id}::text collate "C")`,
    );
  }
  // Ids compare by code point (collation "C") on every shard and in the merge alike.
  const { rows } = await db.query<ProductRow>(
    `select ${PRODUCT_COLUMNS}
       from ${escapeIdentifier(schema)}.products
      where ${where.join(' and ')}
      order by price_amount, product_id collate "C"
      limit ${param(take)}`,
    values,
  );
  return rows;
}

/** The listing's order: by price, then by id as collation "C" orders it. */
export const compareProducts = (a: ProductRow, b: ProductRow): number =>
  compareDecimal(a.price_amount, b.price_amount) || compareText(a.product_id, b.product_id);

/** The key a listing continues after this row with. */
export const productKey = (row: ProductRow): ProductKey => ({
  priceAmount: row.price_amount,
  productId: row.product_id,
});

export function productJson(row: ProductRow) {
  return {
    productId: text(row.product_id),
    sku: text(row.sku),
    name: text(row.name),
    description: text(row.description),
    category: text(row.category),
    price: { amount: minorUnits(row.price_amount), currency: text(row.currency) } satisfies Money,
    available: row.available,
    reserved: row.reserved,
    sold: row.sold,
    discontinued: row.discontinued,
    version: row.version,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}
