import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { Redis } from '../redis';
import { withTimeout } from '../timeout';
import { authenticate } from './auth';
import { sendProblem } from './problem';

/**
 * Rate limits shared by every instance of a service (DESIGN §7): a fixed window of
 * RATE_LIMIT_WINDOW_S per principal (role and subject of a valid token) or, for a request
 * without one, per client IP, counted in Redis. Redis down or slow → the request passes
 * (availability over throttling) and a log line says so, once per outage.
 */

/** Names of the policies in the RateLimit-Policy / RateLimit headers. */
export const RATE_LIMIT_POLICIES = { principal: 'per-principal', ip: 'per-ip' } as const;

/** Longest a request waits for its count; past it the request passes. */
const COUNT_TIMEOUT_MS = 250;

export interface RateLimits {
  /** The middleware: after health, before the routes. */
  handler: RequestHandler;
  /** Closes the limiter's Redis connection. */
  close: () => Promise<void>;
}

interface Policy {
  name: string;
  quota: number;
  limiter: RateLimiterRedis;
}

/** `"per-principal";q=600000;w=60`: the draft-ietf-httpapi-ratelimit-headers structured fields. */
function setHeaders(res: Response, policy: Policy, windowSeconds: number, counted: RateLimiterRes) {
  const resetSeconds = Math.max(0, Math.ceil(counted.msBeforeNext / 1000));
  res.setHeader('RateLimit-Policy', `"${policy.name}";q=${policy.quota};w=${windowSeconds}`);
  res.setHeader(
    'RateLimit',
    `"${policy.name}";r=${Math.max(0, counted.remainingPoints)};t=${resetSeconds}`,
  );
  return resetSeconds;
}

/**
 * The rate limits of `service` (its own counters: `<REDIS_KEY_PREFIX>ratelimit:<service>:…`),
 * or undefined when both limits are 0 (off).
 */
export function createRateLimits(
  config: Config,
  logger: Logger,
  service: string,
): RateLimits | undefined {
  const { windowSeconds, perPrincipal, perIp } = config.rateLimit;
  if (perPrincipal === 0 && perIp === 0) return undefined;
  // Its own connection, without an offline queue: while Redis is away, counting fails at once.
  const redis = new Redis(config.redis.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Every request counts: concurrent counts share one write.
    enableAutoPipelining: true,
  });
  // Requests right after start wait (bounded) for the first connection instead of passing
  // uncounted; later, a connection being re-established fails at once (rejectIfRedisNotReady).
  const firstConnection = new Promise<void>((resolve) => {
    redis.once('ready', resolve);
    redis.once('error', () => resolve());
    redis.once('end', resolve);
  });
  let failing = false;
  redis.on('error', (err: Error) => {
    if (!failing) logger.warn({ err }, 'rate limits: Redis is not answering; requests pass');
    failing = true;
  });
  const policy = (name: string, quota: number): Policy | undefined =>
    quota === 0
      ? undefined
      : {
          name,
          quota,
          limiter: new RateLimiterRedis({
            storeClient: redis,
            rejectIfRedisNotReady: true,
            keyPrefix: `${config.redis.keyPrefix}ratelimit:${service}:${name}`,
            points: quota,
            duration: windowSeconds,
          }),
        };
  const byPrincipal = policy(RATE_LIMIT_POLICIES.principal, perPrincipal);
  const byIp = policy(RATE_LIMIT_POLICIES.ip, perIp);

  const count = async (req: Request): Promise<[Policy, string] | undefined> => {
    const auth = await authenticate(req, config.jwt);
    if (auth.kind === 'principal') {
      const { role, subject } = auth.principal;
      return byPrincipal && [byPrincipal, `${role}:${subject}`];
    }
    // No token, or one refused: the route answers 401, but such requests still count per IP.
    return byIp && [byIp, req.ip ?? req.socket.remoteAddress ?? 'unknown'];
  };

  const handler: RequestHandler = async (req, res, next) => {
    const counted = await count(req);
    if (!counted) return next();
    const [p, key] = counted;
    let result: RateLimiterRes;
    try {
      result = await withTimeout(
        firstConnection.then(() => p.limiter.consume(key)),
        COUNT_TIMEOUT_MS,
        'Redis is too slow',
      );
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const retryAfter = Math.max(1, setHeaders(res, p, windowSeconds, rejection));
        res.setHeader('Retry-After', String(retryAfter));
        return sendProblem(res, {
          type: 'urn:orderstream:problem:rate-limited',
          title: 'Too Many Requests',
          status: 429,
          detail: `more than ${p.quota} requests in ${windowSeconds} s (${p.name}); try again in ${retryAfter} s`,
          code: 'rate_limited',
        });
      }
      if (!failing) {
        logger.warn({ err: rejection }, 'rate limits: Redis is not answering; requests pass');
      }
      failing = true;
      return next();
    }
    if (failing) logger.info('rate limits: Redis answers again; counting');
    failing = false;
    setHeaders(res, p, windowSeconds, result);
    next();
  };

  return {
    handler,
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
