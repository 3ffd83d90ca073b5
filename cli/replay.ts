import { type Config, loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient, type KafkaAdmin } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import { requireReachable, requireTopics } from '../lib/preflight';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import {
  openShard0,
  PROJECTION_NAMES,
  projectionSpecs,
  type ReplayableProjection,
} from '../projectors/projections';
import { projectionLag, totalLag } from '../projectors/runtime/projection-lag';
import { ProjectionRunner } from '../projectors/runtime/projection-runner';
import { progressLine } from './replay-progress';

/** Readers (query API) and the projectors process look for a new generation every second. */
const SWITCH_GRACE_MS = 3000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `orderstream replay <projection>`: rebuilds the projection from offset 0 into the next
 * generation while the current one keeps serving, switches readers over once it has caught
 * up, then drops the old generation (blue-green). Interrupted, it resumes where it stopped.
 * The read model keeps its ring (`orderstream shards add` is the replay that changes it).
 */
export async function replay(projection: string): Promise<void> {
  if (!(PROJECTION_NAMES as readonly string[]).includes(projection)) {
    throw new OperatorError(
      `unknown projection ${projection}: expected ${PROJECTION_NAMES.join(' or ')}`,
    );
  }
  await rebuild({ config: loadConfig(), projection: projection as ReplayableProjection });
}

export interface RebuildOptions {
  config: Config;
  projection: ReplayableProjection;
  /** The read model only: the number of shards the new generation's ring uses (default: as now). */
  shards?: number;
  /** Where progress lines go (default stdout). */
  say?: (line: string) => void;
}

/**
 * The blue-green rebuild behind `replay` and `shards add`: builds generation N+1 (on a ring of
 * `shards` shards for the read model) while N serves, switches readers, drops N.
 */
export async function rebuild({
  config,
  projection,
  shards,
  say = (line) => process.stdout.write(`${line}\n`),
}: RebuildOptions): Promise<void> {
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
  try {
    const current = await spec.currentGeneration();
    // A replay interrupted after its switch left the generation before behind: drop it now.
    const existing = await spec.existingGenerations();
    for (const stale of existing.filter((g) => g < current)) {
      await dropEverywhere(stale);
      say(`${projection}: dropped generation ${stale}, left by an interrupted replay`);
    }
    const next = current + 1;
    const ringNow = await spec.ringSize?.(current);
    const ring = shards ?? ringNow;
    // An interrupted build on another ring cannot be resumed: its rows sit on that ring's shards.
    if (ring !== undefined && existing.includes(next) && (await spec.ringSize?.(next)) !== ring) {
      await dropEverywhere(next);
      say(
        `${projection}: dropped generation ${next}, left by an interrupted build on another ring`,
      );
    }
    const on = (size: number | undefined) => (size === undefined ? '' : ` (${size} shards)`);
    say(
      `${projection}: replaying into generation ${next}${on(ring)} while generation ${current}${on(ringNow)} serves`,
    );
    await spec.prepare(next, ring);
    const target = await spec.openTarget(next);
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
          return rows.reduce((sum, r) => sum + r.position, 0n);
        },
      );
      await spec.switchGeneration(next);
      say(`${projection}: caught up; readers switched to generation ${next}`);
      await sleep(SWITCH_GRACE_MS);
      await waitForGroupToEmpty(admin, spec.groupId(current));
      await dropEverywhere(current);
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
