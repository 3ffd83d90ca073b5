import { Pool } from 'pg';
import { createRedis } from '../../../lib/redis';
import { ShardingRing } from '../../../lib/sharding-ring';
import { readGeneration, schemaFor } from '../../../read-models/postgres/generations';
import { currentViewsGeneration, viewsKeys } from '../../../read-models/views/keys';
import { runClosedLoop } from '../closed-loop';
import type { E2eContext } from '../e2e-context';
import { HttpTarget } from '../http-client';
import { runOpenLoop } from '../open-loop';
import type { Outcome } from '../outcome';
import type { LatencySummary } from '../percentiles';
import { customerHeaders } from '../shop';

/**
 * Query API reads beside the raw store reads they wrap, in the same run with the same
 * concurrency: `GET /products/{id}/stock` against one ioredis HMGET of the same hash, and
 * `GET /products/{id}` against a primary-key select on the product's shard through a pool as
 * large as the query API's. Then p99 of the API at half its measured rate (open loop).
 */

export interface ReadFigure {
  path: string;
  /** 200 answers per second of the closed loop's window. */
  reqPerSec: number;
  rawOpsPerSec: number;
  rawOperation: string;
  /** reqPerSec ÷ rawOpsPerSec. */
  ratio: number;
  closedLoop: LatencySummary;
  outcomes: Record<string, number>;
  halfRate: {
    offeredPerSec: number;
    latency: LatencySummary;
    outcomes: Record<string, number>;
    shed: number;
  };
}

export interface ReadsResult {
  concurrency: number;
  workers: number;
  pgPoolSize: number;
  stock?: ReadFigure;
  product?: ReadFigure;
}

/** Waits until the query API serves every product (the projectors have caught up). */
async function waitForProducts(api: HttpTarget, headers: Record<string, string>, ids: string[]) {
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    for (;;) {
      const [a, b] = await Promise.all([
        api.get(`/products/${id}`, headers, 5000),
        api.get(`/products/${id}/stock`, headers, 5000),
      ]);
      if (a.outcome === 200 && b.outcome === 200) break;
      if (Date.now() > deadline) throw new Error(`product ${id} not readable within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function measureReads(ctx: E2eContext, productIds: string[]): Promise<ReadsResult> {
  const { config, plan } = ctx;
  const concurrency = plan.concurrency;
  const url = `http://127.0.0.1:${config.http.queryApiPort}`;
  const closed = new HttpTarget(url, concurrency);
  const open = new HttpTarget(url, 256);
  const [headers = {}] = await customerHeaders(config, 'reader-', 1);
  // As the query API's own connection: auto-pipelined.
  const redis = createRedis(config.redis.url, { autoPipelining: true });
  const ring = new ShardingRing(config.postgres.shardUrls.length);
  const pools = config.postgres.shardUrls.map(
    (connectionString) => new Pool({ connectionString, max: config.queryApi.pgPoolSize }),
  );
  const result: ReadsResult = {
    concurrency,
    workers: config.queryApi.workers,
    pgPoolSize: config.queryApi.pgPoolSize,
  };
  try {
    await waitForProducts(closed, headers, productIds);
    let n = 0;
    const nextId = () => productIds[n++ % productIds.length] as string;
    const measure = async (
      path: (id: string) => string,
      rawOperation: string,
      raw: (id: string) => Promise<unknown>,
    ): Promise<ReadFigure> => {
      const api = await runClosedLoop({
        concurrency,
        warmupMs: plan.warmupMs,
        durationMs: plan.readMs,
        send: async () =>
          (await closed.get(path(nextId()), headers, plan.requestTimeoutMs)).outcome,
      });
      const direct = await runClosedLoop({
        concurrency,
        warmupMs: plan.warmupMs,
        durationMs: plan.readMs,
        send: async (): Promise<Outcome> => {
          await raw(nextId());
          return 200;
        },
      });
      const reqPerSec = (api.outcomes['200'] ?? 0) / (plan.readMs / 1000);
      const rawOpsPerSec = (direct.outcomes['200'] ?? 0) / (plan.readMs / 1000);
      const half = await runOpenLoop({
        ratePerSec: Math.max(1, Math.round(reqPerSec / 2)),
        durationMs: plan.readMs,
        maxOutstanding: 256,
        timeoutMs: 5000,
        send: async (remaining) => (await open.get(path(nextId()), headers, remaining)).outcome,
      });
      return {
        path: path('{id}'),
        reqPerSec,
        rawOpsPerSec,
        rawOperation,
        ratio: rawOpsPerSec > 0 ? reqPerSec / rawOpsPerSec : 0,
        closedLoop: api.latency,
        outcomes: api.outcomes,
        halfRate: {
          offeredPerSec: half.offeredPerSec,
          latency: half.latency,
          outcomes: half.outcomes,
          shed: half.shed,
        },
      };
    };

    const keys = viewsKeys(
      config.redis.keyPrefix,
      await currentViewsGeneration(redis, config.redis.keyPrefix),
    );
    ctx.say(`e2e: reads: GET /products/{id}/stock vs raw HMGET, ${concurrency} connections…`);
    result.stock = await measure(
      (id) => `/products/${id}/stock`,
      'ioredis HMGET, 1 auto-pipelined connection',
      (id) => redis.hmget(keys.productKey(id), 'id', 'available', 'discontinued'),
    );
    const shard0 = pools[0] as Pool;
    const schema = schemaFor(await readGeneration(shard0));
    ctx.say(`e2e: reads: GET /products/{id} vs raw select by key, ${concurrency} connections…`);
    result.product = await measure(
      (id) => `/products/${id}`,
      `pg select by primary key, pool of ${config.queryApi.pgPoolSize} per shard`,
      (id) =>
        (pools[ring.shardFor(id)] as Pool).query(
          `select * from ${schema}.products where product_id = $1`,
          [id],
        ),
    );
    return result;
  } finally {
    await Promise.allSettled([closed.close(), open.close(), ...pools.map((p) => p.end())]);
    redis.disconnect();
  }
}
