import { Router } from 'express';
import { requireRole } from '../../lib/http/auth';
import {
  revenuePerCategory,
  salesPerMinute,
  topProducts,
} from '../../read-models/analytics/queries';
import type { Queryable } from '../../read-models/postgres/generations';
import type { CachedValue } from '../read-side/cached-value';
import {
  revenuePerCategoryQuery,
  salesPerMinuteQuery,
  topProductsQuery,
} from './analytics-schemas';
import type { QueryContext } from './context';
import { parseQuery } from './query-params';

/** Where the analytics read model is read: shard 0's leader, in the generation readers use. */
export interface AnalyticsSource {
  db: Queryable;
  generation: CachedValue<number>;
}

/** `GET /analytics/...`: sales aggregates of the analytics read model, for staff. */
export function analyticsRoutes(ctx: QueryContext, source: AnalyticsSource): Router {
  const router = Router();
  const staff = requireRole(ctx.config.jwt, 'admin', 'service');

  /** Runs `read` on the current generation; none built yet (no schema) reads as no sales. */
  const fromModel = async <T>(read: (g: number) => Promise<T[]>): Promise<T[]> => {
    const g = await source.generation.get();
    try {
      return await read(g);
    } catch (err) {
      if ((err as { code?: string } | null)?.code === '42P01') return [];
      throw err;
    }
  };

  router.get('/analytics/sales-per-minute', staff, async (req, res) => {
    const query = parseQuery(salesPerMinuteQuery, req, res);
    if (!query) return;
    res.json({ items: await fromModel((g) => salesPerMinute(source.db, g, query.from, query.to)) });
  });

  router.get('/analytics/revenue-per-category', staff, async (req, res) => {
    const query = parseQuery(revenuePerCategoryQuery, req, res);
    if (!query) return;
    res.json({
      items: await fromModel((g) => revenuePerCategory(source.db, g, query.from, query.to)),
    });
  });

  router.get('/analytics/top-products', staff, async (req, res) => {
    const query = parseQuery(topProductsQuery, req, res);
    if (!query) return;
    res.json({
      window: query.window,
      until: query.until.toISOString(),
      items: await fromModel((g) =>
        topProducts(source.db, g, query.until, query.window, query.limit),
      ),
    });
  });

  return router;
}
