import { type RequestHandler, Router } from 'express';
import { metricsEnabled, registry } from '../metrics/registry';
import { sendProblem } from './problem';

/** `/metrics`: the process's Prometheus metrics, text format (lib/metrics/). */
export function metricsRouter(enabled = metricsEnabled): Router {
  const router = Router();
  router.get('/metrics', (async (_req, res, next) => {
    if (!enabled) {
      sendProblem(res, {
        title: 'Not Found',
        status: 404,
        detail: 'Metrics are off in this process (METRICS_ENABLED=false)',
      });
      return;
    }
    try {
      const text = await registry.metrics();
      res.type(registry.contentType).send(text);
    } catch (err) {
      next(err);
    }
  }) as RequestHandler);
  return router;
}
