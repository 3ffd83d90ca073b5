import type { Config } from '../../lib/config';
import { serveOps } from '../../lib/http/ops-server';
import type { RunningServer } from '../../lib/http/serve';
import { createKafkaClient } from '../../lib/kafka';
import { createRedis, type Redis } from '../../lib/redis';
import { topicNames } from '../../lib/topics';
import { openShard0, type ProjectionSpec, projectionSpecs } from '../../projectors/projections';
import { projectionLag, totalLag } from '../../projectors/runtime/projection-lag';
import { ProjectionSupervisor } from '../../projectors/runtime/projection-supervisor';
import { consumerChecks } from '../../projectors/service';
import { isolatedConfig } from '../support/command-api';
import { produceEventLoad } from '../support/event-load';
import { stallingFirstConsumer } from '../support/stalling-kafka';
import { eventually, silentLogger, warningsLogger } from '../support/test-env';

/**
 * A projection consumer that stops delivering without a word (as a librdkafka client did after
 * its broker was paused: up, in its group, fetching nothing) is noticed by its lag — behind,
 * and not one checkpoint moving — and restarted; the projection then catches up.
 */
describe('a stalled projection consumer', () => {
  const STALL_MS = 3000;
  let config: Config;
  let redis: Redis;
  let shard0: ReturnType<typeof openShard0>;
  let supervisor: ProjectionSupervisor | undefined;
  let ops: RunningServer | undefined;

  beforeAll(async () => {
    config = await isolatedConfig(
      'consumer-stall',
      { CONSUMER_STALL_MS: String(STALL_MS) },
      { stores: true },
    );
    redis = createRedis(config.redis.url);
    shard0 = openShard0(config);
  });
  afterAll(async () => {
    await supervisor?.stop();
    await ops?.close();
    redis.disconnect();
    await shard0.end();
  });

  it('is marked stalled (readiness false), restarted, and catches up', async () => {
    const logger = silentLogger();
    const views = projectionSpecs({ config, logger, shard0, redis }).find(
      (s) => s.name === 'views',
    ) as ProjectionSpec;
    const real = createKafkaClient(config);
    const { kafka, consumers } = stallingFirstConsumer(real);
    const { logger: watched, warnings } = warningsLogger();
    supervisor = new ProjectionSupervisor(views, kafka, config, watched);
    ops = await serveOps(config, logger, 0, 'PROJECTORS_PORT', consumerChecks([supervisor]));
    const ready = async () => (await fetch(`${ops?.url}/health/ready`)).status;
    await supervisor.start();
    expect(await ready()).toBe(200);
    // Events keep coming (a stall shows as records arriving that no checkpoint follows).
    let seed = 1;
    const deadline = Date.now() + 30_000;
    while ((await ready()) === 200 && Date.now() < deadline) {
      await produceEventLoad(config, 60, seed++);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(await ready()).toBe(503);
    const body = await (await fetch(`${ops.url}/health/ready`)).json();
    expect(JSON.stringify(body)).toMatch(/its consumer stalled: \d+ events behind/);

    const names = topicNames(config.topics);
    const admin = real.admin();
    const target = await views.openTarget(await views.currentGeneration());
    try {
      const lag = await eventually(
        async () =>
          totalLag(await projectionLag(admin, target, [names.productEvents, names.orderEvents])),
        (behind) => behind === 0n,
        60_000,
      );
      expect(lag).toBe(0n);
    } finally {
      await target.close();
      await admin.close();
    }
    expect(warnings).toContain('projection consumer stalled; restarting it');
    expect(consumers()).toBeGreaterThan(1);
    expect(await eventually(ready, (status) => status === 200, 30_000)).toBe(200);
  }, 120_000);
});
