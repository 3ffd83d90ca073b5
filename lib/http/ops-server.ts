import type { Config } from '../config';
import { OperatorError } from '../errors';
import type { Logger } from '../logger';
import { createHttpApp } from './app';
import type { DependencyCheck } from './health';
import { listen, type RunningServer } from './serve';

/**
 * The small HTTP port of a process that serves no API (projectors, sagas): `/health/live`,
 * `/health/ready` (its checks) and `/metrics`. `portVariable` names the setting in the error
 * when the port is taken.
 */
export async function serveOps(
  config: Config,
  logger: Logger,
  port: number,
  portVariable: string,
  checks: DependencyCheck[],
): Promise<RunningServer> {
  const app = createHttpApp({
    logger,
    checks,
    healthTimeoutMs: config.healthTimeoutMs,
    bodyLimit: config.http.bodyLimit,
  });
  return listen(app, config.http.host, port).catch((err: unknown) => {
    if ((err as { code?: unknown }).code === 'EADDRINUSE') {
      throw new OperatorError(
        `port ${port} is in use (${portVariable}): stop what runs there, or set ${portVariable}`,
      );
    }
    throw err;
  });
}
