import {
  Kafka,
  type KafkaConfig,
  logLevel as KafkaLogLevel,
  type LogEntry,
  type Message,
  type RecordMetadata,
} from 'kafkajs';
import type {
  KafkaClient,
  OutgoingRecord,
  TopicPartitionOffset,
  TransactionalProducer,
} from '../port';
import type { ErrorKind, KafkaSettings } from '../settings';
import { KafkajsAdmin } from './admin';
import { KafkajsGroupConsumer } from './group-consumer';
import { KafkajsLogReader } from './log-reader';
import { CoalescingProducer, KafkajsTransactionalProducer } from './producers';

// Every producer uses kafkajs' default (Java-compatible murmur2) partitioner on purpose.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

// Ordinary rebalance and coordinator-loading chatter is logged by kafkajs as ERROR; the
// failures that matter reach the caller as exceptions, so only warnings and worse are kept.
const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'warn',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

export function kafkajsClient(settings: KafkaSettings): KafkaClient {
  const timeout = settings.requestTimeoutMs;
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: settings.logger ? KafkaLogLevel.WARN : KafkaLogLevel.NOTHING,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        settings.logger?.[levels[level] ?? 'info']({ kafka: rest }, message);
      },
    ...(timeout !== undefined && {
      connectionTimeout: timeout,
      requestTimeout: timeout,
      retry: { retries: 0 },
    }),
  };
  const kafka = new Kafka(config);
  return {
    adapter: 'kafkajs',
    admin: () => new KafkajsAdmin(kafka),
    producer: () => new CoalescingProducer(kafka),
    transactionalProducer: (id): TransactionalProducer =>
      new KafkajsTransactionalProducer(kafka, id),
    groupConsumer: (options) => new KafkajsGroupConsumer(kafka, options),
    reader: () => new KafkajsLogReader(kafka),
  };
}

/** kafkajs messages grouped by topic, keeping each record's index. */
export function byTopic(
  records: OutgoingRecord[],
): Map<string, { index: number; message: Message }[]> {
  const topics = new Map<string, { index: number; message: Message }[]>();
  records.forEach((record, index) => {
    const list = topics.get(record.topic) ?? [];
    list.push({
      index,
      message: {
        key: record.key,
        value: record.value,
        headers: record.headers,
        ...(record.partition !== undefined && { partition: record.partition }),
      },
    });
    topics.set(record.topic, list);
  });
  return topics;
}

/**
 * Each record's position from kafkajs' per-partition base offsets: the records a request
 * carries for one partition are appended as one batch, consecutively and in order.
 */
export function positionsOf(
  records: OutgoingRecord[],
  partitions: number[],
  metadata: RecordMetadata[],
): TopicPartitionOffset[] {
  const next = new Map<string, bigint>();
  for (const m of metadata) next.set(`${m.topicName}#${m.partition}`, BigInt(m.baseOffset ?? '-1'));
  return records.map((record, i) => {
    const partition = partitions[i] ?? -1;
    const key = `${record.topic}#${partition}`;
    const offset = next.get(key) ?? -1n;
    next.set(key, offset + 1n);
    return { topic: record.topic, partition, offset };
  });
}

interface KafkajsErrorShape {
  retriable?: boolean;
  type?: string;
  originalError?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

const FENCED = new Set([
  'INVALID_PRODUCER_EPOCH',
  'PRODUCER_FENCED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

const STALE_MEMBER = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS']);

/** How kafkajs' error (or the error it wraps) should be handled. */
export function classifyKafkajsError(error: unknown): ErrorKind {
  const seen: unknown[] = [error];
  let retriable = false;
  for (let i = 0; i < seen.length && i < 10; i += 1) {
    const e = seen[i] as KafkajsErrorShape | undefined;
    if (!e || typeof e !== 'object') continue;
    if (e.type && FENCED.has(e.type)) return 'fenced';
    if (e.type && STALE_MEMBER.has(e.type)) return 'stale-member';
    if (e.retriable === true || e.type === 'CONCURRENT_TRANSACTIONS') retriable = true;
    seen.push(e.originalError, e.cause, ...(e.errors ?? []));
  }
  return retriable ? 'retriable' : 'fatal';
}
