import type { Config } from '../lib/config';
import type { DependencyCheck } from '../lib/http/health';
import { createKafkaClient } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { reportLag } from '../lib/metrics/consumer-lag';
import { reportDeadLetters } from '../lib/metrics/gauges';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import { openShard0, projectionSpecs } from './projections';
import { rebuildProjectionsOfAnotherLog } from './runtime/foreign-checkpoints';
import { projectionLagSource } from './runtime/projection-lag';
import { ProjectionSupervisor } from './runtime/projection-supervisor';

export interface Projectors {
  /** Readiness: each projection's consumer runs (not crashed, waiting for its restart). */
  checks: DependencyCheck[];
  stop: () => Promise<void>;
}

/** Readiness of each projection: its consumer runs (not crashed and waiting for its restart). */
export function consumerChecks(supervisors: ProjectionSupervisor[]): DependencyCheck[] {
  return supervisors.map((s) => ({
    name: `projection ${s.spec.name} consumer`,
    check: async () => {
      const crash = s.crashed;
      if (crash) throw new Error(`crashed, restarting: ${crash.message}`);
    },
  }));
}

/** The projectors process: every projection of this deployment, each on its current generation. */
export async function startProjectors(config: Config, logger: Logger): Promise<Projectors> {
  const kafka = createKafkaClient(config, logger);
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const wanted = config.readSide.projections;
  const specs = projectionSpecs({ config, logger, shard0, redis }).filter(
    (spec) => !wanted || wanted.includes(spec.name),
  );
  const names = topicNames(config.topics);
  await rebuildProjectionsOfAnotherLog(
    specs,
    kafka,
    [names.productEvents, names.orderEvents],
    shard0,
    logger,
  );
  const supervisors = specs.map((spec) => new ProjectionSupervisor(spec, kafka, config, logger));
  await Promise.all(supervisors.map((s) => s.start()));
  return {
    checks: consumerChecks(supervisors),
    stop: async () => {
      await Promise.allSettled(supervisors.map((s) => s.stop()));
      redis.disconnect();
      await shard0.end();
    },
  };
}

/**
 * Reports at `/metrics` the lag of every projection this process is configured for and the
 * projector dead-letter depth, read from the stores' checkpoints apart from the consumers (so
 * a stopped or crashed projection's lag shows, and grows). Returns how to stop reporting.
 */
export function reportProjectorMetrics(config: Config, logger: Logger): () => Promise<void> {
  const kafka = createKafkaClient(config, logger);
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const names = topicNames(config.topics);
  const wanted = config.readSide.projections;
  const stopReporting = [
    ...projectionSpecs({ config, logger, shard0, redis })
      .filter((spec) => !wanted || wanted.includes(spec.name))
      .map((spec) =>
        reportLag(kafka, projectionLagSource(spec, [names.productEvents, names.orderEvents])),
      ),
    reportDeadLetters(kafka, names.projectorDeadLetter),
  ];
  return async () => {
    for (const stop of stopReporting) stop();
    redis.disconnect();
    await shard0.end();
  };
}
