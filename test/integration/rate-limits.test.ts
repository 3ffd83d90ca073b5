import { randomBytes } from 'node:crypto';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createLogger } from '../../lib/logger';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { call, type HttpResult, tokenFor } from '../support/command-api';
import { freePort, runConfig, silentLogger } from '../support/test-env';

/**
 * Rate limits are counted in Redis, so two query-api instances sharing it (this run's key
 * prefix) share one budget per principal, and one per IP for requests without a valid token.
 */

const PER_PRINCIPAL = 5;
const PER_IP = 3;

interface Instance {
  api: QueryApi;
  server: RunningServer;
}

async function startInstance(config: Config, logger = silentLogger()): Promise<Instance> {
  const api = createQueryApi(config, logger);
  const server = await listen(api.app, '127.0.0.1', 0);
  return { api, server };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  await instance?.server.close();
  await instance?.api.close();
}

describe('rate limits shared by two query-api instances', () => {
  let config: Config;
  let one: Instance;
  let two: Instance;

  beforeAll(async () => {
    config = runConfig({
      // Counters (and empty views) of this file's own.
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}rl-${randomBytes(3).toString('hex')}:`,
      RATE_LIMIT_PER_PRINCIPAL: String(PER_PRINCIPAL),
      RATE_LIMIT_PER_IP: String(PER_IP),
      RATE_LIMIT_WINDOW_S: '600',
    });
    [one, two] = await Promise.all([startInstance(config), startInstance(config)]);
  });

  afterAll(async () => {
    await Promise.all([stopInstance(one), stopInstance(two)]);
  });

  /** `n` requests, alternating between the two instances. */
  async function alternate(n: number, path: string, token?: string): Promise<HttpResult[]> {
    const results: HttpResult[] = [];
    for (let i = 0; i < n; i++) {
      results.push(await call((i % 2 === 0 ? one : two).server.url, 'GET', path, { token }));
    }
    return results;
  }

  it('lets a principal make its quota across both instances, then answers 429 on either', async () => {
    const token = await tokenFor(config, 'customer', 'c-busy');
    const within = await alternate(PER_PRINCIPAL, '/categories', token);
    expect(within.map((r) => r.status)).toEqual(Array(PER_PRINCIPAL).fill(200));
    expect(within.map((r) => r.headers.get('ratelimit'))).toEqual(
      within.map((_, i) =>
        expect.stringMatching(new RegExp(`^"per-principal";r=${PER_PRINCIPAL - 1 - i};t=\\d+$`)),
      ),
    );
    expect(within[0]?.headers.get('ratelimit-policy')).toBe(
      `"per-principal";q=${PER_PRINCIPAL};w=600`,
    );

    for (const instance of [one, two]) {
      const res = await call(instance.server.url, 'GET', '/categories', { token });
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('ratelimit')).toMatch(/^"per-principal";r=0;t=\d+$/);
      expect(res.body).toMatchObject({
        type: 'urn:orderstream:problem:rate-limited',
        status: 429,
        code: 'rate_limited',
      });
    }

    // Another principal has a budget of its own.
    const other = await tokenFor(config, 'customer', 'c-quiet');
    expect((await call(two.server.url, 'GET', '/categories', { token: other })).status).toBe(200);
  });

  it('counts requests without a valid token per IP, across both instances', async () => {
    const within = await alternate(PER_IP, '/categories');
    expect(within.map((r) => r.status)).toEqual(Array(PER_IP).fill(401));
    expect(within[0]?.headers.get('ratelimit-policy')).toBe(`"per-ip";q=${PER_IP};w=600`);
    const over = await call(one.server.url, 'GET', '/categories', { token: 'not-a-jwt' });
    expect(over.status).toBe(429);
    expect(over.headers.get('ratelimit')).toMatch(/^"per-ip";r=0;t=\d+$/);
  });

  it('never limits the health endpoints', async () => {
    for (let i = 0; i < PER_IP + 2; i++) {
      expect((await call(two.server.url, 'GET', '/health/live')).status).toBe(200);
    }
  });
});

describe('rate limits when Redis does not answer', () => {
  let instance: Instance;
  const lines: { level: string; msg: string }[] = [];

  beforeAll(async () => {
    const logger = createLogger('test', 'info');
    for (const level of ['info', 'warn'] as const) {
      Object.assign(logger, {
        [level]: (...args: unknown[]) => {
          lines.push({ level, msg: String(args.find((a) => typeof a === 'string')) });
        },
      });
    }
    const config = runConfig({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      RATE_LIMIT_PER_PRINCIPAL: '1',
      RATE_LIMIT_PER_IP: '1',
    });
    instance = await startInstance(config, logger);
  });

  afterAll(() => stopInstance(instance));

  it('lets requests through (fail open) and says so in the log', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await call(instance.server.url, 'GET', '/openapi.json');
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    expect(lines).toContainEqual({
      level: 'warn',
      msg: 'rate limits: Redis is not answering; requests pass',
    });
  });
});
