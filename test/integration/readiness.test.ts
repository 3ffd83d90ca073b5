import fs from 'node:fs';
import { createCommandApi } from '../../command-api/app';
import {
  ensurePostgresServer,
  ensureShardDatabases,
  stopPrivatePostgres,
} from '../../infra/postgres-server';
import { ensureRedisServer, stopPrivateRedis } from '../../infra/redis-server';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import {
  eventually,
  freePort,
  runConfig,
  runId,
  scratchDir,
  silentLogger,
} from '../support/test-env';

interface Ready {
  status: number;
  contentType: string;
  body: { detail?: string; dependencies?: Record<string, unknown> };
}

async function ready(url: string): Promise<Ready> {
  const res = await fetch(`${url}/health/ready`);
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Ready['body'],
  };
}

/**
 * Readiness follows the dependencies: a private Postgres and a private Redis (started and
 * stopped by this test, never the machine's own) go away and come back.
 */
describe('query-api /health/ready with a private Postgres and Redis', () => {
  const stateDir = scratchDir('readiness');
  let config: ReturnType<typeof runConfig>;
  let queryApi: QueryApi;
  let server: RunningServer;
  const say = () => undefined;

  beforeAll(async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    config = runConfig({
      ORDERSTREAM_STATE_DIR: stateDir,
      POSTGRES_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
      POSTGRES_SHARDS: '2',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      HEALTH_TIMEOUT_MS: '500',
    });
    expect(await ensurePostgresServer(config, say)).toBe('started');
    expect(await ensureRedisServer(config, say)).toBe('started');
    await ensureShardDatabases(config);
    queryApi = createQueryApi(config, silentLogger());
    server = await listen(queryApi.app, '127.0.0.1', 0);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await queryApi?.close();
    await stopPrivateRedis(stateDir);
    await stopPrivatePostgres(stateDir);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it('is ready while every dependency answers', async () => {
    const res = await ready(server.url);
    expect(res.status).toBe(200);
    expect(res.body.dependencies).toEqual({
      [`postgres shard 0 (ostest_${runId()}_shard_0)`]: 'up',
      [`postgres shard 1 (ostest_${runId()}_shard_1)`]: 'up',
      redis: 'up',
    });
  });

  it('answers 503 naming Redis while it is down, and 200 once it is back', async () => {
    await stopPrivateRedis(stateDir);
    const down = await eventually(
      () => ready(server.url),
      (r) => r.status === 503,
    );
    expect(down.status).toBe(503);
    expect(down.contentType).toMatch(/^application\/problem\+json/);
    expect(down.body.detail).toBe('Not ready: redis not answering');
    expect(down.body.dependencies?.redis).toEqual({ down: expect.any(String) });

    expect(await ensureRedisServer(config, say)).toBe('started');
    expect(
      (
        await eventually(
          () => ready(server.url),
          (r) => r.status === 200,
        )
      ).status,
    ).toBe(200);
  });

  it('answers 503 naming the Postgres shards while Postgres is down, and 200 once it is back', async () => {
    expect(await stopPrivatePostgres(stateDir)).toBe(true);
    const down = await eventually(
      () => ready(server.url),
      (r) => r.status === 503,
    );
    expect(down.status).toBe(503);
    expect(down.body.detail).toMatch(
      /^Not ready: postgres shard 0 \(.*\), postgres shard 1 \(.*\) not answering$/,
    );
    expect(down.body.dependencies?.redis).toBe('up');

    expect(await ensurePostgresServer(config, say)).toBe('started');
    expect(
      (
        await eventually(
          () => ready(server.url),
          (r) => r.status === 200,
        )
      ).status,
    ).toBe(200);
  });
});

describe('command-api /health/ready', () => {
  it('is ready when the Kafka broker answers', async () => {
    const server = await listen(createCommandApi(runConfig(), silentLogger()), '127.0.0.1', 0);
    try {
      const res = await ready(server.url);
      expect(res.status).toBe(200);
      expect(res.body.dependencies).toEqual({ kafka: 'up' });
    } finally {
      await server.close();
    }
  });

  it('answers 503 naming Kafka when no broker answers', async () => {
    const config = runConfig({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      HEALTH_TIMEOUT_MS: '500',
    });
    const server = await listen(createCommandApi(config, silentLogger()), '127.0.0.1', 0);
    try {
      const res = await ready(server.url);
      expect(res.status).toBe(503);
      expect(res.body.detail).toBe('Not ready: kafka not answering');
    } finally {
      await server.close();
    }
  });

  it('is live regardless of dependencies', async () => {
    const config = runConfig({ KAFKA_BROKERS: `127.0.0.1:${await freePort()}` });
    const server = await listen(createCommandApi(config, silentLogger()), '127.0.0.1', 0);
    try {
      const res = await fetch(`${server.url}/health/live`);
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
