import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { aggregateKinds } from '../../command-api/aggregates';
import { CommandProcessor } from '../../command-api/processor/command-processor';
import { type CommandReply, decodeReply } from '../../command-api/processor/reply';
import { startCommandService } from '../../command-api/service';
import type { CreateProduct } from '../../domain';
import { ensureTopics } from '../../infra/kafka-topics';
import { ensureShardDatabases } from '../../infra/postgres-server';
import type { Config } from '../../lib/config';
import { issueToken, type Role } from '../../lib/http/auth';
import { listen } from '../../lib/http/serve';
import {
  createKafkaClient,
  type KafkaClient,
  type OutgoingRecord,
  partitionOf,
  readToEnd,
} from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import { topicCatalogue, topicNames } from '../../lib/topics';
import { decodeEvent, encodeCommand } from '../../schemas/codec';
import { runConfig, silentLogger } from './test-env';

/**
 * A config whose topics (created here) belong to one test file alone; with `stores`, also its
 * own shard databases (created and migrated) and Redis key prefix.
 */
export async function isolatedConfig(
  name: string,
  overrides: NodeJS.ProcessEnv = {},
  options: { stores?: boolean } = {},
): Promise<Config> {
  const stores = options.stores
    ? {
        POSTGRES_DATABASE_PREFIX: `${process.env.POSTGRES_DATABASE_PREFIX}_${name.replaceAll('-', '_')}`,
        REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX}${name}:`,
      }
    : {};
  const config = runConfig({
    TOPIC_PREFIX: `${process.env.TOPIC_PREFIX}.${name}`,
    ...stores,
    ...overrides,
  });
  await ensureTopics(config);
  if (options.stores) await ensureShardDatabases(config);
  return config;
}

/** The environment a child process needs to use the same topics and stores as `config`. */
export function envOf(config: Config): NodeJS.ProcessEnv {
  return {
    TOPIC_PREFIX: config.topics.prefix,
    POSTGRES_SHARD_URLS: config.postgres.shardUrls.join(','),
    REDIS_KEY_PREFIX: config.redis.keyPrefix,
    ...(config.postgres.followerShardUrls.length > 0
      ? { POSTGRES_FOLLOWER_SHARD_URLS: config.postgres.followerShardUrls.join(',') }
      : {}),
  };
}

export interface RunningCommandApi {
  url: string;
  app: Express;
  stop: () => Promise<void>;
}

/** The command-api (processor, bus, HTTP) in this process, on a free port. */
export async function startCommandApi(config: Config): Promise<RunningCommandApi> {
  const service = await startCommandService(config, silentLogger());
  const http = await listen(service.app, '127.0.0.1', 0);
  return {
    url: http.url,
    app: service.app,
    stop: async () => {
      await http.close();
      await service.stop();
    },
  };
}

export function tokenFor(config: Config, role: Role, subject: string): Promise<string> {
  return issueToken(config.jwt, subject, role);
}

export interface StoredEvent {
  type: string;
  data: Record<string, unknown>;
  aggregateId: string;
  aggregateVersion: number;
  commandId: string;
  eventId: string;
  partition: number;
  offset: string;
}

/** Every committed event in `topic`, decoded, in log order per partition. */
export async function readEvents(config: Config, topic: string): Promise<StoredEvent[]> {
  const partitions =
    topicCatalogue(config.topics).find((t) => t.name === topic)?.partitions ??
    config.topics.partitions;
  const events: StoredEvent[] = [];
  await readToEnd(
    createKafkaClient(config),
    Array.from({ length: partitions }, (_, partition) => ({ topic, partition })),
    ({ partition, records }) => {
      for (const record of records) {
        const { event, meta } = decodeEvent(record);
        const { type, ...data } = event;
        events.push({
          type,
          data,
          aggregateId: meta.aggregateId,
          aggregateVersion: meta.aggregateVersion,
          commandId: meta.commandId,
          eventId: meta.eventId,
          partition,
          offset: String(record.offset),
        });
      }
    },
  );
  return events;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** A JSON request; the body is sent as given when it is a string (to send malformed JSON). */
/**
 * A command as a careful client sends it: with an Idempotency-Key, again after a 503 (a busy
 * process, e.g. its product catalogue still reading) once its Retry-After has passed, up to
 * `attempts` times; the first other answer is returned.
 */
export async function callRetryingUnavailable(
  url: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> },
  attempts = 30,
): Promise<HttpResult> {
  const headers = { 'Idempotency-Key': randomUUID(), ...options.headers };
  for (let attempt = 1; ; attempt += 1) {
    const res = await call(url, 'POST', path, { ...options, headers });
    if (res.status !== 503 || attempt >= attempts) return res;
    const seconds = Number(res.headers.get('retry-after') ?? '1');
    await new Promise((r) => setTimeout(r, Math.min(seconds, 1) * 1000));
  }
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  }
  const res = await fetch(`${url}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** `METHOD /path/{param}` for every route the app serves, read from express' router. */
export function servedRoutes(app: Express): string[] {
  const walk = (layers: RouterLayer[]): string[] =>
    layers.flatMap((layer) =>
      layer.route
        ? Object.keys(layer.route.methods).map(
            (m) =>
              `${m.toUpperCase()} ${(layer.route as { path: string }).path.replace(/:(\w+)/g, '{$1}')}`,
          )
        : walk(layer.handle?.stack ?? []),
    );
  const router = (app as unknown as { router: { stack: RouterLayer[] } }).router;
  return walk(router.stack);
}

/**
 * A CreateProduct command record for the product commands topic, as another command API
 * instance forwards it (command id `cmd-<productId>`, a reply required).
 */
export function createProductRecord(config: Config, productId: string): OutgoingRecord {
  const command: CreateProduct = {
    type: 'CreateProduct',
    productId,
    sku: `SKU-${productId}`,
    name: productId,
    description: '',
    category: 'c',
    price: { amount: 100, currency: 'EUR' },
    initialStock: 1,
  };
  const { value, headers } = encodeCommand(command, {
    commandId: `cmd-${productId}`,
    correlationId: productId,
    actor: 'admin:test',
    issuedAt: new Date().toISOString(),
    requestHash: productId,
    replyRequired: true,
  });
  return {
    topic: topicNames(config.topics).productCommands,
    key: productId,
    partition: partitionOf(productId, config.topics.partitions),
    value,
    headers,
  };
}

/** Every reply in the product replies topic. */
export async function readProductReplies(config: Config): Promise<CommandReply[]> {
  const topic = topicNames(config.topics).productReplies;
  const replies: CommandReply[] = [];
  await readToEnd(
    createKafkaClient(config),
    Array.from({ length: config.topics.partitions }, (_, partition) => ({ topic, partition })),
    ({ records }) => {
      for (const record of records) replies.push(decodeReply(record.value));
    },
  );
  return replies;
}

/**
 * A started command processor of the real aggregates on `config`'s topics, in a consumer
 * group and transactional ids of its own (`<prefix>.<name>-processor`, `…-owner`).
 */
export async function startTestProcessor(
  config: Config,
  name: string,
  options: { kafka: KafkaClient; logger?: Logger; stallMs?: number },
): Promise<{ processor: CommandProcessor; groupId: string }> {
  const groupId = `${config.topics.prefix}.${name}-processor`;
  const processor = new CommandProcessor({
    kafka: options.kafka,
    logger: options.logger ?? silentLogger(),
    kinds: aggregateKinds(config),
    groupId,
    transactionalIdPrefix: `${config.topics.prefix}.${name}-owner`,
    partitions: config.topics.partitions,
    sessionTimeoutMs: 6000,
    maxCommandsPerTransaction: 200,
    maxRememberedCommands: 1000,
    snapshotEveryEvents: 0,
    stallMs: options.stallMs,
  });
  await processor.start();
  return { processor, groupId };
}
