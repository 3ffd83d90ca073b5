import type { Logger } from '../../lib/logger';
import { createRedis, type Redis } from '../../lib/redis';
import { ModelViolation } from '../../read-models/projected-event';
import { APPLY_SCRIPT } from '../../read-models/views/apply-script';
import {
  checkpointField,
  currentViewsGeneration,
  type ViewsKeys,
  viewsKeys,
} from '../../read-models/views/keys';
import { type ViewsChange, viewsChange } from '../../read-models/views/projection';
import { scanPrefix } from '../../read-models/views/scan';
import {
  type ProjectedEvent,
  ProjectionPoisonError,
  type ProjectionTarget,
} from '../runtime/projection';

interface CommonOptions {
  /** config.redis.keyPrefix (`REDIS_KEY_PREFIX`). */
  keyPrefix: string;
  /** The generation this target writes (keys under `<keyPrefix>views:g<N>:`). */
  generation: number;
  logger: Logger;
  /**
   * Most events applied by one script call (default 1000): a longer batch is applied in
   * consecutive atomic steps, each moving the checkpoint to its own last event, so Redis is
   * never blocked for long. Exactly-once holds all the same.
   */
  maxEventsPerCall?: number;
}

export type ViewsTargetOptions = CommonOptions &
  (
    | {
        /** A client to share; `close()` leaves it open. It must have no ioredis `keyPrefix`. */
        redis: Redis;
        url?: never;
      }
    | {
        /** REDIS_URL: the target opens its own client and `close()` closes it. */
        url: string;
        redis?: never;
      }
  );

/** A poison event of the views: the batch it was in was not applied at all. */
export class ViewsPoisonError extends ProjectionPoisonError {
  constructor(
    readonly offset: string,
    readonly eventType: string,
    readonly reason: string,
    projection: string,
    topic: string,
    partition: number,
  ) {
    super(
      `${projection}: cannot apply ${eventType} at ${topic}[${partition}] offset ${offset}: ${reason}`,
    );
  }
}

const COMMAND = 'orderstreamViewsApply';

/** An event the views projection could not map: the script sets it aside above the checkpoint. */
interface RefusedChange {
  type: string;
  offset: string;
  refused: string;
}

/** The script as ioredis' `defineCommand` exposes it on the client. */
type ApplyCommand = (
  checkpointKey: string,
  prefix: string,
  topic: string,
  partition: string,
  lastOffset: string,
  eventsJson: string,
) => Promise<unknown>;

const CANONICAL_OFFSET = /^(0|[1-9]\d*)$/;

/** a < b for canonical decimal offsets. */
function offsetLess(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** JSON for the script: a bigint (an Avro long decoded as such) travels as a number. */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v,
  );
}

/**
 * The `views` projection (read-models/README.md, "Redis views"): applies each batch of one
 * partition with one Lua script call that changes the views and that partition's checkpoint
 * together, skipping events at or below the checkpoint.
 */
export class ViewsTarget implements ProjectionTarget {
  readonly name: string;
  readonly keys: ViewsKeys;
  private readonly redis: Redis;
  private readonly ownsClient: boolean;
  private readonly applyCommand: ApplyCommand;
  private readonly logger: Logger;
  private readonly keyPrefix: string;
  private readonly maxEventsPerCall: number;
  private closed = false;

  constructor(options: ViewsTargetOptions) {
    this.keys = viewsKeys(options.keyPrefix, options.generation);
    this.name = `views@g${options.generation}`;
    this.keyPrefix = options.keyPrefix;
    this.logger = options.logger;
    this.maxEventsPerCall = options.maxEventsPerCall ?? 1000;
    if (!Number.isInteger(this.maxEventsPerCall) || this.maxEventsPerCall < 1) {
      throw new RangeError(`maxEventsPerCall must be ≥ 1, got ${options.maxEventsPerCall}`);
    }
    if (options.redis) {
      if (options.redis.options.keyPrefix) {
        throw new Error(
          'ViewsTarget needs a Redis client without an ioredis keyPrefix (it prefixes keys itself)',
        );
      }
      this.redis = options.redis;
      this.ownsClient = false;
    } else {
      this.redis = createRedis(options.url);
      this.ownsClient = true;
    }
    this.redis.defineCommand(COMMAND, { lua: APPLY_SCRIPT, numberOfKeys: 1 });
    const command: unknown = Reflect.get(this.redis, COMMAND);
    if (typeof command !== 'function') throw new Error('ioredis did not define the views script');
    this.applyCommand = (...args) => Reflect.apply(command, this.redis, args) as Promise<unknown>;
  }

  async resumeOffsets(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    const resume = new Map<number, bigint>();
    if (partitions.length === 0) return resume;
    const applied = await this.redis.hmget(
      this.keys.checkpointKey,
      ...partitions.map((p) => checkpointField(topic, p)),
    );
    partitions.forEach((partition, i) => {
      const offset = applied[i];
      resume.set(partition, offset == null ? 0n : BigInt(offset) + 1n);
    });
    return resume;
  }

  async apply(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): Promise<void> {
    this.checkBatch(topic, partition, events, lastOffset);
    if (events.length === 0) {
      await this.applyChunk(topic, partition, [], lastOffset);
      return;
    }
    for (let i = 0; i < events.length; i += this.maxEventsPerCall) {
      const chunk = events.slice(i, i + this.maxEventsPerCall);
      const isLast = i + this.maxEventsPerCall >= events.length;
      const upTo = isLast ? lastOffset : (chunk[chunk.length - 1] as ProjectedEvent).offset;
      await this.applyChunk(topic, partition, chunk, upTo);
    }
  }

  /**
   * Deletes every key of generation `generation` (SCAN + UNLINK on its prefix only). Refuses the
   * generation readers are pointed at unless `force` is set.
   * @returns how many keys were removed.
   */
  async dropGeneration(generation: number, options: { force?: boolean } = {}): Promise<number> {
    const { prefix } = viewsKeys(this.keyPrefix, generation);
    if (
      !options.force &&
      (await currentViewsGeneration(this.redis, this.keyPrefix)) === generation
    ) {
      throw new Error(
        `views generation ${generation} is the one readers use: switch the pointer before dropping it`,
      );
    }
    let removed = 0;
    await scanPrefix(this.redis, prefix, async (keys) => {
      removed += await this.redis.unlink(...keys);
    });
    this.logger.info({ projection: 'views', generation, removed }, 'views generation dropped');
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.redis.quit();
  }

  private checkBatch(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): void {
    if (!Number.isInteger(partition) || partition < 0) {
      throw new RangeError(`${this.name}: bad partition ${partition}`);
    }
    if (!CANONICAL_OFFSET.test(lastOffset)) {
      throw new RangeError(
        `${this.name}: lastOffset ${JSON.stringify(lastOffset)} is not an offset`,
      );
    }
    let previous: string | undefined;
    for (const event of events) {
      if (event.topic !== topic || event.partition !== partition) {
        throw new Error(
          `${this.name}: an event of ${event.topic}[${event.partition}] in a batch of ${topic}[${partition}]`,
        );
      }
      if (!CANONICAL_OFFSET.test(event.offset)) {
        throw new RangeError(`${this.name}: event offset ${JSON.stringify(event.offset)}`);
      }
      if (previous !== undefined && !offsetLess(previous, event.offset)) {
        throw new Error(`${this.name}: offsets out of order (${previous} then ${event.offset})`);
      }
      previous = event.offset;
    }
    if (previous !== undefined && offsetLess(lastOffset, previous)) {
      throw new Error(`${this.name}: lastOffset ${lastOffset} is below event offset ${previous}`);
    }
  }

  private async applyChunk(
    topic: string,
    partition: number,
    events: ProjectedEvent[],
    lastOffset: string,
  ): Promise<void> {
    const payload: (ViewsChange | RefusedChange)[] = [];
    for (const event of events) {
      try {
        const change = viewsChange(event);
        if (change) payload.push(change);
      } catch (err) {
        if (!(err instanceof ModelViolation)) throw err;
        // The script refuses it unless the checkpoint already passed it (set aside before).
        payload.push({ type: event.type, offset: event.offset, refused: err.message });
      }
    }
    const reply = await this.applyCommand(
      this.keys.checkpointKey,
      this.keys.prefix,
      topic,
      String(partition),
      lastOffset,
      toJson(payload),
    );
    if (!Array.isArray(reply) || reply.length < 4) {
      throw new Error(`${this.name}: unexpected script reply ${toJson(reply)}`);
    }
    const [outcome, a, b, c, ...ignored] = reply.map(String);
    if (outcome === 'poison') {
      throw new ViewsPoisonError(
        a as string,
        b as string,
        c as string,
        this.name,
        topic,
        partition,
      );
    }
    if (outcome !== 'ok') throw new Error(`${this.name}: unexpected script reply ${toJson(reply)}`);
    if (ignored.length > 0) {
      this.logger.warn(
        { projection: this.name, topic, partition, ignored },
        'views: events about a product or order the views do not hold changed nothing',
      );
    }
    this.logger.debug(
      {
        projection: this.name,
        topic,
        partition,
        applied: Number(a),
        skipped: Number(b),
        checkpoint: c,
      },
      'views batch applied',
    );
  }
}
