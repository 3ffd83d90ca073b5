import {
  type Admin,
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import type { Config } from './config';
import type { Logger } from './logger';
import { withTimeout } from './timeout';

export type { Kafka };

// Every producer uses kafkajs' default (Java-compatible murmur2) partitioner on purpose.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** The one place a Kafka client is made, so every producer shares the default (murmur2) partitioner. */
export function createKafka(
  config: Pick<Config, 'kafka'>,
  logger?: Logger,
  overrides: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logger ? KafkaLogLevel.WARN : KafkaLogLevel.NOTHING,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        logger?.[levels[level] ?? 'info']({ kafka: rest }, message);
      },
    ...overrides,
  });
}

/** Resolves when a broker answers a metadata request within `timeoutMs`; rejects otherwise. */
export async function pingKafka(config: Pick<Config, 'kafka'>, timeoutMs: number): Promise<void> {
  const admin = createKafka(config, undefined, {
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await withTimeout(
      (async () => {
        await admin.connect();
        await admin.describeCluster();
      })(),
      timeoutMs,
      `no answer from ${config.kafka.brokers.join(',')} within ${timeoutMs} ms`,
    );
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

type TopicOffsets = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

/**
 * Runs `call` again while it fails with an error Kafka marks retriable (a partition's leader
 * or a topic's metadata still settling, e.g. just after the topic was created): kafkajs' admin
 * calls do not retry those themselves.
 */
export async function retrying<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      const retriable = (err as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * Math.min(attempt, 10)));
    }
  }
}

/** Every partition's low and high offsets (`admin.fetchTopicOffsets`, retried while leadership settles). */
export function logEndOffsets(admin: Admin, topic: string, attempts = 20): Promise<TopicOffsets> {
  return retrying(() => admin.fetchTopicOffsets(topic), attempts);
}

export type Transaction = Awaited<ReturnType<Producer['transaction']>>;

/**
 * Runs `work` in a Kafka transaction and commits it. A retriable failure (a group coordinator
 * moving or still loading, a concurrent transaction being completed) aborts and runs `work`
 * again in a new transaction; anything else (e.g. being fenced by a newer producer with the
 * same transactional id) aborts and is thrown. `work` must be safe to repeat: nothing it
 * writes is visible to read_committed readers until a commit succeeds.
 */
export async function inTransaction<T>(
  producer: Producer,
  work: (tx: Transaction) => Promise<T>,
  attempts = 6,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const tx = await producer.transaction();
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (err) {
      if (tx.isActive()) await tx.abort().catch(() => undefined);
      const retriable = (err as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
