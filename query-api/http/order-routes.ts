import { type Request, type Response, Router } from 'express';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { fromPgText } from '../../lib/postgres-text';
import {
  customerOrders,
  historyJson,
  orderHistory,
  orderJson,
  orderKey,
  orderWithLines,
  orderWithLinesJson,
} from '../../read-models/orders/queries';
import type { Queryable } from '../../read-models/postgres/generations';
import { everyShard, shardOf } from '../read-side/shard-reader';
import { anyRole, ownCustomer, type QueryContext } from './context';
import { encodeOrderCursor } from './cursor';
import { parseQuery } from './query-params';
import { customerOrdersQuery } from './query-schemas';
import { READ_FROM_HEADER, readConsistency } from './read-request';

/** Unknown, or another customer's: the same answer, so a customer learns nothing of others. */
export function orderNotFound(res: Response, orderId: string): void {
  sendProblem(res, {
    type: 'urn:orderstream:problem:order_not_found',
    title: 'Not Found',
    status: 404,
    detail: `no order ${orderId}`,
    code: 'order_not_found',
  });
}

/**
 * Orders: one order with its lines, its history, and a customer's orders. Orders sit on their
 * customer's shard, so a lookup by order id asks every shard.
 */
export function orderRoutes(ctx: QueryContext): Router {
  const router = Router();
  refuseControlCharactersInParams(router, 'id');
  const signedIn = anyRole(ctx.config);

  /**
   * Looks one order up on every shard (`query` returns a shard's rows of the order, each carrying
   * `customer_id`), answering 404 for an unknown order or another customer's; else the rows.
   */
  async function readOwnOrder<R extends { customer_id: string }>(
    req: Request,
    res: Response,
    query: (db: Queryable, schema: string, orderId: string) => Promise<R[]>,
  ): Promise<R[] | undefined> {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return undefined;
    const orderId = req.params.id as string;
    const { results, from } = await ctx.shards.read(
      everyShard,
      consistency.positions,
      (db, schema) => query(db, schema, orderId),
    );
    res.setHeader(READ_FROM_HEADER, from);
    const rows = results.find((r) => r.length > 0);
    const owner = ownCustomer(req);
    if (!rows?.[0] || (owner !== undefined && fromPgText(rows[0].customer_id) !== owner)) {
      orderNotFound(res, orderId);
      return undefined;
    }
    return rows;
  }

  router.get('/orders/:id', signedIn, async (req, res) => {
    const rows = await readOwnOrder(req, res, orderWithLines);
    if (rows) res.json(orderWithLinesJson(rows));
  });

  router.get('/orders/:id/history', signedIn, async (req, res) => {
    const rows = await readOwnOrder(req, res, orderHistory);
    if (rows) res.json(historyJson(rows));
  });

  router.get('/customers/:id/orders', signedIn, async (req, res) => {
    const customerId = req.params.id as string;
    const owner = ownCustomer(req);
    if (owner !== undefined && owner !== customerId) {
      return sendProblem(res, {
        title: 'Forbidden',
        status: 403,
        detail: 'a customer reads only its own orders',
      });
    }
    const query = parseQuery(customerOrdersQuery, req, res);
    if (!query) return;
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return;
    const { results, from } = await ctx.shards.read(
      shardOf(customerId),
      consistency.positions,
      (db, schema) =>
        customerOrders(
          db,
          schema,
          customerId,
          { status: query.status, after: query.cursor },
          query.limit + 1,
        ),
    );
    res.setHeader(READ_FROM_HEADER, from);
    const rows = results[0] ?? [];
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      items: page.map(orderJson),
      nextCursor: rows.length > query.limit && last ? encodeOrderCursor(orderKey(last)) : null,
    });
  });

  return router;
}
