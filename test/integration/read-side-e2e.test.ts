import { ensureShardDatabases } from '../../infra/postgres-server';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { openShard0 } from '../../projectors/projections';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import { checksum } from '../../read-models/postgres/checksum';
import { readGeneration } from '../../read-models/postgres/generations';
import {
  call,
  envOf,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { projectionState } from '../support/projection-progress';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, runCli, runConfig, silentLogger } from '../support/test-env';

/**
 * The whole read side with real processes: command API → Kafka → projectors (leader and a
 * follower, as separate processes) → query API.
 */
describe('read side end to end', () => {
  let config: Config;
  let commands: RunningCommandApi;
  const queries: { api: QueryApi; server: RunningServer }[] = [];
  let queryUrl: string;
  let leaderOnlyUrl: string;
  let projectors: ServiceProcess;
  let follower: ServiceProcess;
  let admin: string;
  let customer: string;
  let productId: string;

  beforeAll(async () => {
    const base = await isolatedConfig('e2e', { FOLLOWER_MAX_LAG: '0' }, { stores: true });
    // Follower databases: same server, their own names, migrated like the leaders.
    const followerDbs = runConfig({
      POSTGRES_DATABASE_PREFIX: `${process.env.POSTGRES_DATABASE_PREFIX}_e2e_follower`,
    });
    await ensureShardDatabases(followerDbs);
    config = {
      ...base,
      postgres: { ...base.postgres, followerShardUrls: followerDbs.postgres.shardUrls },
    };

    commands = await startCommandApi(config);
    projectors = startServiceProcess('projectors/main.ts', 0, {
      ...envOf(config),
      PROJECTIONS: 'read-model,views',
    });
    follower = startServiceProcess('projectors/main.ts', 0, {
      ...envOf(config),
      PROJECTIONS: 'read-model-follower',
    });
    await Promise.all(
      [projectors, follower].map((p) => p.waitForLog((l) => l.msg === 'projectors running')),
    );

    for (const c of [
      config,
      { ...config, postgres: { ...config.postgres, followerShardUrls: [] } },
    ]) {
      const api = createQueryApi(c, silentLogger());
      queries.push({ api, server: await listen(api.app, '127.0.0.1', 0) });
    }
    queryUrl = queries[0]?.server.url as string;
    leaderOnlyUrl = queries[1]?.server.url as string;

    admin = await tokenFor(config, 'admin', 'alice');
    customer = await tokenFor(config, 'customer', 'c-e2e');
    const created = await call(commands.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'E2E',
        name: 'Lamp',
        category: 'home',
        price: { amount: 2500, currency: 'EUR' },
        initialStock: 5,
      },
    });
    productId = created.body.aggregateId as string;
  });

  afterAll(async () => {
    await Promise.all([projectors, follower].map((p) => p?.kill('SIGKILL')));
    for (const q of queries) {
      await q.server.close();
      await q.api.close();
    }
    await commands?.stop();
  });

  const placeOrder = () =>
    call(commands.url, 'POST', '/orders', {
      token: customer,
      body: { items: [{ productId, quantity: 1 }] },
    });

  it('reads your writes: an order placed is read back with its token, 100 times in a row', async () => {
    for (let i = 0; i < 100; i += 1) {
      const placed = await placeOrder();
      expect(placed.status).toBe(201);
      const read = await call(queryUrl, 'GET', `/orders/${placed.body.aggregateId}`, {
        token: customer,
        headers: { 'X-Consistency-Token': placed.headers.get('x-consistency-token') as string },
      });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        orderId: placed.body.aggregateId,
        customerId: 'c-e2e',
        status: 'pending',
      });
    }
  });

  it('reads a caught-up follower, with the leader’s answers; with its projector killed, falls back to the leader', async () => {
    const path = '/customers/c-e2e/orders?limit=100';
    const fromFollower = await eventually(
      () => call(queryUrl, 'GET', path, { token: customer }),
      (r) => r.headers.get('x-read-from') === 'follower',
      60_000,
    );
    const fromLeader = await call(leaderOnlyUrl, 'GET', path, { token: customer });
    expect(fromLeader.headers.get('x-read-from')).toBe('leader');
    expect(fromFollower.body).toEqual(fromLeader.body);

    await follower.kill('SIGKILL');
    const placed = await placeOrder();
    const token = placed.headers.get('x-consistency-token') as string;
    const withToken = await call(queryUrl, 'GET', `/orders/${placed.body.aggregateId}`, {
      token: customer,
      headers: { 'X-Consistency-Token': token },
    });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('x-read-from')).toBe('leader');
    // Without a token, the stale follower (beyond FOLLOWER_MAX_LAG) is not read either: the
    // newest order shows at once.
    const fresh = await eventually(
      () => call(queryUrl, 'GET', path, { token: customer }),
      (r) =>
        (r.body.items as { orderId: string }[] | undefined)?.[0]?.orderId ===
        placed.body.aggregateId,
      20_000,
    );
    expect((fresh.body.items as { orderId: string }[])[0]?.orderId).toBe(placed.body.aggregateId);
    expect(fresh.headers.get('x-read-from')).toBe('leader');
  });

  it('replays the read model under live traffic: queries never fail, and it ends equal to a build from scratch', async () => {
    let traffic = true;
    const failures: string[] = [];
    let reads = 0;
    const writer = (async () => {
      while (traffic) {
        const r = await placeOrder();
        if (r.status !== 201) failures.push(`write ${r.status}`);
      }
    })();
    const reader = (async () => {
      while (traffic) {
        for (const path of [
          '/customers/c-e2e/orders?limit=5',
          `/products/${productId}`,
          '/products?limit=5',
        ]) {
          const r = await call(leaderOnlyUrl, 'GET', path, { token: customer });
          reads += 1;
          if (r.status !== 200) failures.push(`${path} ${r.status} ${r.text}`);
        }
      }
    })();

    // Interrupted early, then run again: it resumes, finishes, and leaves one generation.
    const env = envOf(config);
    let switchedTo = 0;
    try {
      const interrupted = await runCli(['replay', 'read-model'], env, 1500);
      expect(interrupted.code).not.toBe(0);
      const replay = await runCli(['replay', 'read-model'], env);
      expect(replay.code).toBe(0);
      expect(replay.stderr).toMatch(/100% ·/);
      switchedTo = Number(/readers switched to generation (\d+)/.exec(replay.stdout)?.[1]);
      expect(switchedTo).toBeGreaterThanOrEqual(2);
      expect(replay.stdout).toContain(`dropped generation ${switchedTo - 1}`);
    } finally {
      traffic = false;
      await Promise.all([writer, reader]);
    }
    expect(failures).toEqual([]);
    expect(reads).toBeGreaterThan(10);

    const shard0 = openShard0(config);
    expect(await readGeneration(shard0)).toBe(switchedTo);
    const schemas = await shard0.query(
      "select nspname from pg_namespace where nspname like 'read_model_g%'",
    );
    expect(schemas.rows.map((r) => r.nspname)).toEqual([`read_model_g${switchedTo}`]);
    await shard0.end();
    // The projectors process moved to the new generation and keeps it current.
    const caughtUp = await eventually(
      () => projectionState(config, 'read-model', switchedTo),
      (s) => s.lag === 0n,
      60_000,
    );
    expect(caughtUp.lag).toBe(0n);
    const live = await checksum(config.postgres.shardUrls, switchedTo);

    // A from-scratch build of the same log into another generation gives the same rows.
    const scratch = await runCli(['replay', 'read-model'], env);
    expect(scratch.code).toBe(0);
    expect(await checksum(config.postgres.shardUrls, switchedTo + 1)).toBe(live);
  });
});
