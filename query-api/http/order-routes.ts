import { type Request, type Response, Router } from 'express';
import { escapeIdentifier } from 'pg';
import { refuseControlCharactersInParams } from '../../lib/http/input-guard';
import { sendProblem } from '../../lib/http/problem';
import { fromPgText, toPgText } from '../../lib/postgres-text';
import { allShards, anyRole, ownCustomer, type QueryContext } from './context';
import { encodeOrderCursor } from './cursor';
import { parseQuery } from './query-params';
import { customerOrdersQuery } from './query-schemas';
import { READ_FROM_HEADER, readConsistency } from './read-request';
import {
  HISTORY_COLUMNS,
  type HistoryRow,
  historyJson,
  LINE_COLUMNS,
  type LineRow,
  type OrderRow,
  orderColumns,
  orderJson,
  orderWithLinesJson,
} from './shapes';

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
   * Looks one order up on every shard (`select` gets the schema and returns rows carrying
   * `customer_id`), answering 404 for an unknown order or another customer's; else the rows.
   */
  async function readOwnOrder<R extends { customer_id: string }>(
    req: Request,
    res: Response,
    select: (s: string) => string,
  ): Promise<R[] | undefined> {
    const consistency = readConsistency(req, res, ctx.topics);
    if (!consistency) return undefined;
    const orderId = req.params.id as string;
    const { results, from } = await ctx.shards.read(
      allShards(ctx.ring),
      consistency.positions,
      async (db, schema) =>
        (await db.query<R>(select(escapeIdentifier(schema)), [toPgText(orderId)])).rows,
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
    const rows = await readOwnOrder<OrderRow & LineRow>(
      req,
      res,
      (s) => `select ${orderColumns(s)}, ${LINE_COLUMNS}
                from ${s}.orders o
                left join ${s}.order_lines l on l.order_id = o.order_id
               where o.order_id = $1
               order by l.line_no`,
    );
    if (rows) res.json(orderWithLinesJson(rows));
  });

  router.get('/orders/:id/history', signedIn, async (req, res) => {
    const rows = await readOwnOrder<HistoryRow>(
      req,
      res,
      (s) => `select ${HISTORY_COLUMNS}
                from ${s}.orders o
                left join ${s}.order_history h on h.order_id = o.order_id
               where o.order_id = $1
               order by h.aggregate_version`,
    );
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
      [ctx.ring.shardFor(customerId)],
      consistency.positions,
      async (db, schema) => {
        const values: unknown[] = [toPgText(customerId)];
        const param = (value: unknown) => {
          values.push(value);
          return `$${values.length}`;
        };
        const where = ['o.customer_id = $1'];
        if (query.status) where.push(`o.status = ${param(query.status)}`);
        if (query.cursor) {
          where.push(
            `(o.placed_at, o.order_id) < (${param(query.cursor.placedAt)}::timestamptz, ${param(query.cursor.orderId)}::text)`,
          );
        }
        const s = escapeIdentifier(schema);
        const { rows } = await db.query<OrderRow>(
          `select ${orderColumns(s)}
             from ${s}.orders o
            where ${where.join(' and ')}
            order by o.placed_at desc, o.order_id desc
            limit ${param(query.limit + 1)}`,
          values,
        );
        return rows;
      },
    );
    res.setHeader(READ_FROM_HEADER, from);
    const rows = results[0] ?? [];
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    res.json({
      items: page.map(orderJson),
      nextCursor:
        rows.length > query.limit && last
          ? encodeOrderCursor({ placedAt: last.placed_at_exact, orderId: last.order_id })
          : null,
    });
  });

  return router;
}
