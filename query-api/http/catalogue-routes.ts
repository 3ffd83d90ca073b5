import { Router } from 'express';
import { escapeIdentifier } from 'pg';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { toPgText } from '../../lib/postgres-text';
import { allShards, anyRole, type QueryContext } from './context';
import { encodeProductCursor, type ProductCursor } from './cursor';
import { compareDecimal, compareText, mergePages } from './keyset';
import { parseQuery } from './query-params';
import { bestSellersQuery, productListQuery } from './query-schemas';
import { READ_FROM_HEADER, readConsistency } from './read-request';
import { PRODUCT_COLUMNS, type ProductRow, productJson } from './shapes';

/** One shard's page of the product listing: `limit + 1` rows after the cursor, in key order. */
function productPage(
  schema: string,
  filter: { category?: string; minPrice?: string; maxPrice?: string; cursor?: ProductCursor },
  take: number,
): { text: string; values: unknown[] } {
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
  if (filter.cursor) {
    const price = param(filter.cursor.priceAmount);
    const id = param(filter.cursor.productId);
    // The first condition lets the price index bound the scan; the second is the keyset.
    where.push(
      `price_amount >= ${price}::bigint`,
      `(price_amount, product_id collate "C") > (${price}::bigint, ${id}::text collate "C")`,
    );
  }
  // Ids compare by code point (collation "C") on every shard and in the merge alike.
  return {
    text: `select ${PRODUCT_COLUMNS}
             from ${escapeIdentifier(schema)}.products
            where ${where.join(' and ')}
            order by price_amount, product_id collate "C"
            limit ${param(take)}`,
    values,
  };
}

const compareProducts = (a: ProductRow, b: ProductRow) =>
  compareDecimal(a.price_amount, b.price_amount) || compareText(a.product_id, b.product_id);

const notFound = (productId: string) => ({
  type: 'urn:orderstream:problem:product_not_found',
  title: 'Not Found',
  status: 404,
  detail: `no product ${productId}`,
  code: 'product_not_found',
});

/** The catalogue: products (Postgres), stock, categories and best sellers (Redis views). */
export function catalogueRoutes(ctx: QueryContext): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id');
  const signedIn = anyRole(ctx.config);

  router.get('/products', signedIn, async (req, res) => {
    const query = parseQuery(productListQuery, req, res);
    if (!query) return;
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const { limit, ...filter } = query;
    const { results, from } = await ctx.shards.read(
      allShards(ctx.ring),
      consistency.positions,
      async (db, schema) => {
        const { text, values } = productPage(schema, filter, limit + 1);
        return (await db.query<ProductRow>(text, values)).rows;
      },
    );
    const { rows, more } = mergePages(results, limit, compareProducts);
    const last = rows.at(-1);
    res.setHeader(READ_FROM_HEADER, from);
    res.json({
      items: rows.map(productJson),
      nextCursor:
        more && last
          ? encodeProductCursor({ priceAmount: last.price_amount, productId: last.product_id })
          : null,
    });
  });

  // Before /products/:id, which would take "best-sellers" for an id.
  router.get('/products/best-sellers', signedIn, async (req, res) => {
    const query = parseQuery(bestSellersQuery, req, res);
    if (!query) return;
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const items = await ctx.views.read(consistency.positions, async (redis, keys) => {
      const ranked = await redis.zrevrange(keys.bestsellersKey, 0, query.limit - 1, 'WITHSCORES');
      if (ranked.length === 0) return undefined;
      const ids = ranked.filter((_, i) => i % 2 === 0);
      const names = await Promise.all(ids.map((id) => redis.hget(keys.productKey(id), 'name')));
      return ids.map((productId, i) => ({
        productId,
        name: names[i] ?? null,
        unitsSold: Number(ranked[2 * i + 1]),
      }));
    });
    res.json(items ?? []);
  });

  router.get('/products/:id', signedIn, async (req, res) => {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const productId = req.params.id as string;
    const { results, from } = await ctx.shards.read(
      [ctx.ring.shardFor(productId)],
      consistency.positions,
      async (db, schema) =>
        (
          await db.query<ProductRow>(
            `select ${PRODUCT_COLUMNS} from ${escapeIdentifier(schema)}.products where product_id = $1`,
            [toPgText(productId)],
          )
        ).rows[0],
    );
    res.setHeader(READ_FROM_HEADER, from);
    const row = results[0];
    if (!row) return sendProblem(res, notFound(productId));
    res.json(productJson(row));
  });

  router.get('/products/:id/stock', signedIn, async (req, res) => {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const productId = req.params.id as string;
    const stock = await ctx.views.read(consistency.positions, async (redis, keys) => {
      const [id, available, discontinued] = await redis.hmget(
        keys.productKey(productId),
        'id',
        'available',
        'discontinued',
      );
      if (id === null) return undefined;
      return {
        productId,
        available: Number(available ?? 0),
        discontinued: discontinued === 'true',
      };
    });
    if (!stock) return sendProblem(res, notFound(productId));
    res.json(stock);
  });

  router.get('/categories', signedIn, async (req, res) => {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const categories = await ctx.views.read(consistency.positions, async (redis, keys) => {
      const counts = await redis.hgetall(keys.categoriesKey);
      const names = Object.keys(counts);
      if (names.length === 0) return undefined;
      return names
        .sort(compareText)
        .map((category) => ({ category, count: Number(counts[category]) }));
    });
    res.json(categories ?? []);
  });

  return router;
}
