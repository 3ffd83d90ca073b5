import express, { type Express, type Router } from 'express';
import type { Logger } from '../logger';
import { type DependencyCheck, healthRouter } from './health';
import { notFound, problemErrorHandler } from './problem';

export interface HttpAppOptions {
  logger: Logger;
  checks: DependencyCheck[];
  healthTimeoutMs: number;
  bodyLimit: string;
  routes?: Router;
}

/** The express app every HTTP service shares: JSON bodies, health, problem+json errors. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: options.bodyLimit }));
  app.use(healthRouter(options.checks, options.healthTimeoutMs));
  if (options.routes) app.use(options.routes);
  app.use(notFound);
  app.use(problemErrorHandler((err) => options.logger.error({ err }, 'request failed')));
  return app;
}
