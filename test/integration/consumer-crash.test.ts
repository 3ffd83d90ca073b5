import type { Config } from '../../lib/config';
import { serveOps } from '../../lib/http/ops-server';
import type { RunningServer } from '../../lib/http/serve';
import { createKafkaClient } from '../../lib/kafka';
import { createRedis, type Redis } from '../../lib/redis';
import { openShard0, type ProjectionSpec, projectionSpecs } from '../../projectors/projections';
import type { ProjectionTarget } from '../../projectors/runtime/projection';
import { ProjectionSupervisor } from '../../projectors/runtime/projection-supervisor';
import { consumerChecks } from '../../projectors/service';
import { isolatedConfig } from '../support/command-api';
import { eventually, silentLogger, warningsLogger } from '../support/test-env';

/**
 * A projection consumer that stops on an error it cannot get past (here: its store cannot tell
 * where to resume, past the runner's own retries) is not left dead in a live process: readiness
 * turns false and the consumer is restarted, and ready again once it runs.
 */
describe('a crashed projection consumer', () => {
  let config: Config;
  let redis: Redis;
  let shard0: ReturnType<typeof openShard0>;
  let supervisor: ProjectionSupervisor | undefined;
  let ops: RunningServer | undefined;

  beforeAll(async () => {
    config = await isolatedConfig('consumer-crash', {}, { stores: true });
    redis = createRedis(config.redis.url);
    shard0 = openShard0(config);
  });
  afterAll(async () => {
    await supervisor?.stop();
    await ops?.close();
    redis.disconnect();
    await shard0.end();
  });

  it('turns readiness false, restarts the consumer, and is ready again once it runs', async () => {
    const logger = silentLogger();
    const views = projectionSpecs({ config, logger, shard0, redis }).find(
      (s) => s.name === 'views',
    ) as ProjectionSpec;
    let failing = true;
    let resumedAfterFault = 0;
    // The real views target, whose checkpoints cannot be read while `failing`.
    const flaky: ProjectionSpec = {
      ...views,
      openTarget: async (g) => {
        const target = await views.openTarget(g);
        const wrapped: ProjectionTarget = {
          name: target.name,
          resumeOffsets: async (topic, partitions) => {
            if (failing) throw new Error('checkpoint store unreadable');
            resumedAfterFault += 1;
            return target.resumeOffsets(topic, partitions);
          },
          apply: (...args) => target.apply(...args),
          close: () => target.close(),
        };
        return wrapped;
      },
    };
    const { logger: watched, warnings } = warningsLogger();
    supervisor = new ProjectionSupervisor(flaky, createKafkaClient(config), config, watched);
    ops = await serveOps(config, logger, 0, 'PROJECTORS_PORT', consumerChecks([supervisor]));
    const ready = async () => (await fetch(`${ops?.url}/health/ready`)).status;
    await supervisor.start();
    expect(await ready()).toBe(200);

    // The runner tries the store a few times (3 s in all), then its consumer stops.
    expect(await eventually(ready, (status) => status === 503, 30_000)).toBe(503);
    const body = await (await fetch(`${ops.url}/health/ready`)).json();
    expect(JSON.stringify(body)).toContain('checkpoint store unreadable');
    expect(await (await fetch(`${ops.url}/health/live`)).status).toBe(200);

    failing = false;
    expect(await eventually(ready, (status) => status === 200, 30_000)).toBe(200);
    expect(warnings).toContain('projection consumer crashed; restarting it');
    // Ready means its consumer runs again; it reads its checkpoints once the group assigns it
    // the partitions, a moment later.
    expect(
      await eventually(
        async () => resumedAfterFault,
        (n) => n > 0,
        30_000,
      ),
    ).toBeGreaterThan(0);
  }, 60_000);
});
