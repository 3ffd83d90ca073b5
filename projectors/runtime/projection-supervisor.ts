import type { Config } from '../../lib/config';
import type { KafkaAdmin, KafkaClient } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { ConsumerStall } from '../../lib/metrics/consumer-stall';
import { topicNames } from '../../lib/topics';
import type { ProjectionSpec } from '../projections';
import type { ProjectionTarget } from './projection';
import { projectionLag } from './projection-lag';
import { ProjectionRunner } from './projection-runner';

/** How often a running projection looks for a blue-green switch or a crashed consumer. */
const WATCH_MS = 1000;
/** Waits before restarting a crashed consumer: doubling from the first, capped at the last. */
const RESTART_BACKOFF_MS = { first: 1000, max: 30_000 };
/** Most time between two looks at the lag for a stalled consumer (less for a short stall time). */
const STALL_CHECK_MS = 5000;

/**
 * Runs one projection on its current generation, moving to a new one when it is switched, and
 * restarting its consumer (after a growing wait) when it stopped on an error it could not get
 * past, or stalled (events waiting, no checkpoint moving for CONSUMER_STALL_MS): a crashed or
 * stalled consumer is not left in a live process consuming nothing.
 */
export class ProjectionSupervisor {
  private generation = 0;
  private runner: ProjectionRunner | undefined;
  private target: ProjectionTarget | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watching: Promise<void> = Promise.resolve();
  private restarts = 0;
  private restartAt: number | undefined;
  private restartedAt = 0;
  private readonly stall: ConsumerStall;
  private stalled: Error | undefined;
  private nextStallCheck = 0;
  private admin: KafkaAdmin | undefined;

  constructor(
    readonly spec: ProjectionSpec,
    private readonly kafka: KafkaClient,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.stall = new ConsumerStall(config.kafka.consumerStallMs);
  }

  async start(): Promise<void> {
    await this.follow(await this.spec.currentGeneration());
    this.timer = setInterval(() => {
      this.watching = this.watching
        .then(() => this.watch())
        .catch((err: unknown) =>
          this.logger.warn({ err, projection: this.spec.name }, 'projection watch failed'),
        );
    }, WATCH_MS);
  }

  /**
   * The error its consumer stopped on, or its stall, while it waits to be restarted (readiness
   * reports it).
   */
  get crashed(): Error | undefined {
    return this.runner ? (this.runner.crashed ?? this.stalled) : new Error('not running');
  }

  private async watch(): Promise<void> {
    if (!this.crashed) await this.lookForStall();
    const crash = this.crashed;
    if (crash) {
      if (this.restartAt === undefined) {
        const wait = Math.min(
          RESTART_BACKOFF_MS.max,
          RESTART_BACKOFF_MS.first * 2 ** this.restarts,
        );
        this.restartAt = Date.now() + wait;
        this.logger.warn(
          { projection: this.spec.name, err: crash, restartInMs: wait },
          crash === this.stalled
            ? 'projection consumer stalled; restarting it'
            : 'projection consumer crashed; restarting it',
        );
      }
      if (Date.now() < this.restartAt) return;
      this.restarts += 1;
      this.restartAt = undefined;
      this.restartedAt = Date.now();
      await this.follow(await this.spec.currentGeneration(), true);
      return;
    }
    // Up for a while since the last restart: the next crash waits the shortest time again.
    if (this.restarts > 0 && Date.now() - this.restartedAt > RESTART_BACKOFF_MS.max * 2)
      this.restarts = 0;
    await this.follow(await this.spec.currentGeneration());
  }

  /**
   * Every few seconds, the projection's lag against its checkpoints: events arrived and not
   * one checkpoint moved for CONSUMER_STALL_MS since, its consumer has stopped without a word (as a
   * librdkafka client did after its broker was paused) and is marked stalled.
   */
  private async lookForStall(): Promise<void> {
    const stallMs = this.config.kafka.consumerStallMs;
    const target = this.target;
    if (stallMs === 0 || !target || Date.now() < this.nextStallCheck) return;
    this.nextStallCheck = Date.now() + Math.min(STALL_CHECK_MS, stallMs / 4);
    this.admin ??= this.kafka.admin();
    const names = topicNames(this.config.topics);
    let rows: Awaited<ReturnType<typeof projectionLag>>;
    try {
      rows = await projectionLag(this.admin, target, [names.productEvents, names.orderEvents]);
    } catch {
      return; // Not measurable just now (Kafka or the store away): no verdict.
    }
    if (target !== this.target) return; // Moved to another generation meanwhile.
    const stall = this.stall.observe(rows, Date.now());
    if (stall) {
      this.stalled = new Error(
        `its consumer stalled: ${stall.lag} events behind, none applied for ${Math.round(stall.forMs / 1000)} s while they waited`,
      );
    }
  }

  private async follow(generation: number, restart = false): Promise<void> {
    if (generation === this.generation && !restart) return;
    const [previousRunner, previousTarget] = [this.runner, this.target];
    this.runner = undefined;
    this.target = undefined;
    await previousRunner?.stop();
    await previousTarget?.close();
    const names = topicNames(this.config.topics);
    await this.spec.prepare(generation);
    // The generation's own ring: after `shards add` switches, the new one routes over more shards.
    const target = await this.spec.openTarget(generation);
    const runner = new ProjectionRunner({
      kafka: this.kafka,
      logger: this.logger,
      groupId: this.spec.groupId(generation),
      topics: [names.productEvents, names.orderEvents],
      target,
      batchSize: this.config.readSide.projectionBatchSize,
      deadLetterTopic: names.projectorDeadLetter,
    });
    this.target = target;
    this.generation = generation;
    this.stalled = undefined;
    this.stall.reset();
    await runner.start();
    this.runner = runner;
    this.logger.info({ projection: this.spec.name, generation }, 'projection running');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.watching;
    await this.runner?.stop();
    await this.target?.close();
    await this.admin?.close();
  }
}
