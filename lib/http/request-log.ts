import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger';
import { httpDuration, metricsEnabled } from '../metrics/registry';

export const CORRELATION_HEADER = 'X-Correlation-Id';
/** Longest correlation id kept from a client (a longer one is cut, not refused). */
const MAX_CORRELATION_ID = 200;

/** The request's correlation id: the client's `X-Correlation-Id`, else one made for it. */
export function correlationIdOf(res: Response): string {
  return (res.locals.correlationId as string | undefined) ?? '';
}

/** Health probes come every few hundred milliseconds: logged only at debug. */
const isProbe = (path: string) => path.startsWith('/health/') || path === '/metrics';

/**
 * First in every service's chain: gives the request its correlation id (echoed on the answer,
 * so a client can quote it) and logs one line per answered request with its method, path,
 * status, latency, correlation id and trace id; its latency also goes to the HTTP histogram.
 */
export function requestLog(logger: Logger): RequestHandler {
  const service = (logger.bindings() as { name?: string }).name ?? '';
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const correlationId =
      req.header(CORRELATION_HEADER)?.slice(0, MAX_CORRELATION_ID) || randomUUID();
    res.locals.correlationId = correlationId;
    res.setHeader(CORRELATION_HEADER, correlationId);
    // Read now: by 'finish' the request's span has ended and is no longer the active one.
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    res.once('finish', () => {
      const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
      // The route's pattern, not the path: one series per route, whatever the ids in it.
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : '(unmatched)';
      if (metricsEnabled)
        httpDuration.observe(
          { service, method: req.method, route, status: String(res.statusCode) },
          latencyMs / 1000,
        );
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        latencyMs: Math.round(latencyMs * 100) / 100,
        correlationId,
        ...(traceId && { traceId }),
      };
      if (isProbe(req.path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}
