import { type RequestHandler, Router } from 'express';
import { registry } from '../metrics/registry';

/** `/metrics`: the process's Prometheus metrics, text format (lib/metrics/). */
export function metricsRouter(): Router {
  const router = Router();
  router.get('/metrics', (async (_req, res, next) => {
    try {
      const text = await registry.metrics();
      res.type(registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  }) as RequestHandler);
  return router;
}
