import { loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient, type KafkaAdmin } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import { requireReachable, requireTopics } from '../lib/preflight';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import { openShard0, PROJECTION_NAMES, projectionSpecs } from '../projectors/projections';
import { ProjectionRunner } from '../projectors/runtime/projection-runner';
import { projectionLag, totalLag } from './projection-lag';
import { progressLine } from './replay-progress';

/** Readers (query API) and the projectors process look for a new generation every second. */
const SWITCH_GRACE_MS = 3000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `orderstream replay <projection>`: rebuilds the projection from offset 0 into the next
 * generation while the current one keeps serving, switches readers over once it has caught
 * up, then drops the old generation (blue-green). Interrupted, it resumes where it stopped.
 */
export async function replay(projection: string): Promise<void> {
  if (!(PROJECTION_NAMES as readonly string[]).includes(projection)) {
    throw new OperatorError(
      `unknown projection ${projection}: expected ${PROJECTION_NAMES.join(' or ')}`,
    );
  }
  const config = loadConfig();
  await requireReachable(config, ['kafka', 'postgres', 'redis']);
  const names = topicNames(config.topics);
  const topics = [names.productEvents, names.orderEvents];
  await requireTopics(config, topics);
  const logger = createLogger('replay', config.logLevel === 'info' ? 'warn' : config.logLevel);
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  // The client library's own log lines (rebalances) would break the progress bar.
  const kafka = createKafkaClient(config);
  const admin = kafka.admin();
  const specs = projectionSpecs({ config, logger, shard0, redis });
  const spec = specs.find((s) => s.name === projection);
  if (!spec) throw new OperatorError(`unknown projection ${projection}`);
  // A read model's follower lives and dies with the leader's generations.
  const dropEverywhere = async (generation: number) => {
    for (const s of specs.filter(
      (s) =>
        s.name === projection || (projection === 'read-model' && s.name === 'read-model-follower'),
    )) {
      await s.dropGeneration(generation);
    }
  };
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const current = await spec.currentGeneration();
    // A replay interrupted after its switch left the generation before behind: drop it now.
    for (const stale of (await spec.existingGenerations()).filter((g) => g < current)) {
      await dropEverywhere(stale);
      say(`${projection}: dropped generation ${stale}, left by an interrupted replay`);
    }
    const next = current + 1;
    say(`${projection}: replaying into generation ${next} while generation ${current} serves`);
    await spec.prepare(next);
    const target = spec.openTarget(next);
    const runner = new ProjectionRunner({
      kafka,
      logger,
      groupId: spec.groupId(next),
      topics,
      target,
      batchSize: config.readSide.projectionBatchSize,
      deadLetterTopic: names.projectorDeadLetter,
    });
    await runner.start();
    try {
      await waitUntilCaughtUp(
        async () => totalLag(await projectionLag(admin, target, topics)),
        async () => {
          const rows = await projectionLag(admin, target, topics);
          return rows.reduce((sum, r) => sum + (r.checkpoint + 1n), 0n);
        },
      );
      await spec.switchGeneration(next);
      say(`${projection}: caught up; readers switched to generation ${next}`);
      await sleep(SWITCH_GRACE_MS);
      await waitForGroupToEmpty(admin, spec.groupId(current));
      for (const s of specs.filter(
        (s) =>
          s.name === projection ||
          (projection === 'read-model' && s.name === 'read-model-follower'),
      )) {
        await s.dropGeneration(current);
      }
      say(`${projection}: dropped generation ${current}`);
    } finally {
      await runner.stop();
      await target.close();
    }
  } finally {
    await admin.close();
    redis.disconnect();
    await shard0.end();
  }
}

async function waitUntilCaughtUp(
  lag: () => Promise<bigint>,
  applied: () => Promise<bigint>,
): Promise<void> {
  const tty = process.stderr.isTTY;
  let last = { at: Date.now(), applied: await applied() };
  let rate = 0;
  let lastPrinted = 0;
  for (;;) {
    const [remaining, done] = [await lag(), await applied()];
    const now = Date.now();
    if (now > last.at) {
      const instant = (Number(done - last.applied) * 1000) / (now - last.at);
      rate = rate === 0 ? instant : rate * 0.7 + instant * 0.3;
      last = { at: now, applied: done };
    }
    if (tty) process.stderr.write(`\r${progressLine(done, remaining, rate)}`);
    else if (now - lastPrinted >= 2000 || remaining === 0n) {
      process.stderr.write(`${progressLine(done, remaining, rate)}\n`);
      lastPrinted = now;
    }
    if (remaining === 0n) break;
    await sleep(500);
  }
  if (tty) process.stderr.write('\n');
}

/** Waits (bounded) until no consumer is left in the old generation's group. */
async function waitForGroupToEmpty(admin: KafkaAdmin, groupId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const groups = await admin.describeGroups([groupId]);
    if ((groups[0]?.members.length ?? 0) === 0) return;
    await sleep(500);
  }
}
