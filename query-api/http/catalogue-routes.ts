import { Router } from 'express';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { mergePages } from '../../read-models/keyset';
import {
  compareProducts,
  productById,
  productJson,
  productKey,
  productPage,
} from '../../read-models/products/queries';
import { bestSellers, categoryCounts, productStock } from '../../read-models/views/queries';
import { everyShard, shardOf } from '../read-side/shard-reader';
import { anyRole, type QueryContext } from './context';
import { encodeProductCursor } from './cursor';
import { parseQuery } from './query-params';
import { bestSellersQuery, productListQuery } from './query-schemas';
import { READ_FROM_HEADER, readConsistency } from './read-request';

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
    const { limit, cursor, ...filter } = query;
    const { results, from } = await ctx.shards.read(
      everyShard,
      consistency.positions,
      (db, schema) => productPage(db, schema, { ...filter, after: cursor }, limit + 1),
    );
    const { rows, more } = mergePages(results, limit, compareProducts);
    const last = rows.at(-1);
    res.setHeader(READ_FROM_HEADER, from);
    res.json({
      items: rows.map(productJson),
      nextCursor: more && last ? encodeProductCursor(productKey(last)) : null,
    });
  });

  // Before /products/:id, which would take "best-sellers" for an id.
  router.get('/products/best-sellers', signedIn, async (req, res) => {
    const query = parseQuery(bestSellersQuery, req, res);
    if (!query) return;
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const items = await ctx.views.read(consistency.positions, (redis, keys) =>
      bestSellers(redis, keys, query.limit),
    );
    res.json(items ?? []);
  });

  router.get('/products/:id', signedIn, async (req, res) => {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const productId = req.params.id as string;
    const { results, from } = await ctx.shards.read(
      shardOf(productId),
      consistency.positions,
      (db, schema) => productById(db, schema, productId),
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
    const stock = await ctx.views.read(consistency.positions, (redis, keys) =>
      productStock(redis, keys, productId),
    );
    if (!stock) return sendProblem(res, notFound(productId));
    res.json(stock);
  });

  router.get('/categories', signedIn, async (req, res) => {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const categories = await ctx.views.read(consistency.positions, categoryCounts);
    res.json(categories ?? []);
  });

  return router;
}
