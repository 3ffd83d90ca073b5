import type { Config } from '../lib/config';
import { createKafkaClient, type KafkaClient } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { createRedis } from '../lib/redis';
import { topicNames } from '../lib/topics';
import { openShard0, type ProjectionSpec, projectionSpecs } from './projections';
import type { ProjectionTarget } from './runtime/projection';
import { ProjectionRunner } from './runtime/projection-runner';

/** How often a running projection looks for a blue-green switch of its generation. */
const GENERATION_POLL_MS = 1000;

/** Runs one projection on its current generation, moving to a new one when it is switched. */
class ProjectionSupervisor {
  private generation = 0;
  private runner: ProjectionRunner | undefined;
  private target: ProjectionTarget | undefined;
  private timer: NodeJS.Timeout | undefined;
  private switching: Promise<void> = Promise.resolve();

  constructor(
    private readonly spec: ProjectionSpec,
    private readonly kafka: KafkaClient,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.follow(await this.spec.currentGeneration());
    this.timer = setInterval(() => {
      this.switching = this.switching
        .then(async () => this.follow(await this.spec.currentGeneration()))
        .catch((err: unknown) =>
          this.logger.warn({ err, projection: this.spec.name }, 'generation check failed'),
        );
    }, GENERATION_POLL_MS);
  }

  private async follow(generation: number): Promise<void> {
    if (generation === this.generation) return;
    const [previousRunner, previousTarget] = [this.runner, this.target];
    this.runner = undefined;
    this.target = undefined;
    await previousRunner?.stop();
    await previousTarget?.close();
    const names = topicNames(this.config.topics);
    await this.spec.prepare(generation);
    const target = this.spec.openTarget(generation);
    const runner = new ProjectionRunner({
      kafka: this.kafka,
      logger: this.logger,
      groupId: this.spec.groupId(generation),
      topics: [names.productEvents, names.orderEvents],
      target,
      batchSize: this.config.readSide.projectionBatchSize,
      deadLetterTopic: names.projectorDeadLetter,
    });
    await runner.start();
    this.runner = runner;
    this.target = target;
    this.generation = generation;
    this.logger.info({ projection: this.spec.name, generation }, 'projection running');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.switching;
    await this.runner?.stop();
    await this.target?.close();
  }
}

export interface Projectors {
  stop: () => Promise<void>;
}

/** The projectors process: every projection of this deployment, each on its current generation. */
export async function startProjectors(config: Config, logger: Logger): Promise<Projectors> {
  const kafka = createKafkaClient(config, logger);
  const shard0 = openShard0(config);
  const redis = createRedis(config.redis.url);
  redis.on('error', (err) => logger.debug({ err }, 'redis connection error'));
  const wanted = config.readSide.projections;
  const supervisors = projectionSpecs({ config, logger, shard0, redis })
    .filter((spec) => !wanted || wanted.includes(spec.name))
    .map((spec) => new ProjectionSupervisor(spec, kafka, config, logger));
  await Promise.all(supervisors.map((s) => s.start()));
  return {
    stop: async () => {
      await Promise.allSettled(supervisors.map((s) => s.stop()));
      redis.disconnect();
      await shard0.end();
    },
  };
}
