import express, {
  type ErrorRequestHandler,
  type Express,
  type RequestHandler,
  type Router,
} from 'express';
import type { Logger } from '../logger';
import { type DependencyCheck, healthRouter } from './health';
import { JSON_BODY_TYPES, refuseControlCharacters, requireJsonBody } from './input-guard';
import { metricsRouter } from './metrics-route';
import { notFound, problemErrorHandler } from './problem';
import { requestLog } from './request-log';

export interface HttpAppOptions {
  logger: Logger;
  checks: DependencyCheck[];
  healthTimeoutMs: number;
  bodyLimit: string;
  routes?: Router;
  /** Rate limits (lib/http/rate-limit.ts): after health, before the routes. */
  rateLimit?: RequestHandler;
  /** Error handlers of the service, before the last one (problem+json, 500 for the rest). */
  errorHandlers?: ErrorRequestHandler[];
}

/**
 * The express app every HTTP service shares: request logs and correlation ids
 * (lib/http/request-log.ts), JSON bodies (anything else 415), input free of
 * control characters (lib/http/input-guard.ts), health, problem+json errors.
 */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(options.logger));
  app.use(requireJsonBody);
  app.use(express.json({ limit: options.bodyLimit, type: JSON_BODY_TYPES }));
  app.use(refuseControlCharacters);
  app.use(healthRouter(options.checks, options.healthTimeoutMs));
  app.use(metricsRouter());
  if (options.rateLimit) app.use(options.rateLimit);
  if (options.routes) app.use(options.routes);
  app.use(notFound);
  for (const handler of options.errorHandlers ?? []) app.use(handler);
  app.use(problemErrorHandler((err) => options.logger.error({ err }, 'request failed')));
  return app;
}
