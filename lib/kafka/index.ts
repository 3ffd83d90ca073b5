import type { Config } from '../config';
import { OperatorError } from '../errors';
import type { Logger } from '../logger';
import { withTimeout } from '../timeout';
import { kafkajsClient } from './kafkajs/client';
import type {
  KafkaAdapterName,
  KafkaClient,
  RecordBatch,
  TopicPartition,
  TopicPartitionOffset,
} from './port';
import type { KafkaSettings } from './settings';

export { partitionOf } from './kafkajs/partitioner';
export * from './port';
export type { KafkaSettings } from './settings';

type ConfluentModule = typeof import('./confluent/client');
let confluent: ConfluentModule | null | undefined;

/** The librdkafka adapter when its native module is built here; null otherwise. */
function loadConfluent(): ConfluentModule | null {
  if (confluent === undefined) {
    try {
      confluent = require('./confluent/client') as ConfluentModule;
    } catch {
      confluent = null;
    }
  }
  return confluent;
}

/** Which adapter KAFKA_CLIENT picks: `auto` is the native one when it is built, else kafkajs. */
export function resolveAdapter(wanted: Config['kafka']['client']): KafkaAdapterName {
  if (wanted === 'kafkajs') return 'kafkajs';
  if (loadConfluent()) return 'confluent';
  if (wanted === 'confluent') {
    throw new OperatorError(
      'KAFKA_CLIENT=confluent but the native Kafka client is not built: run `npm run build:kafka-native` (needs zlib1g-dev libssl-dev libzstd-dev liblz4-dev libsasl2-dev), or set KAFKA_CLIENT=kafkajs',
    );
  }
  return 'kafkajs';
}

/** The one place a Kafka client is made: the adapter KAFKA_CLIENT selects. */
export function createKafkaClient(
  config: Pick<Config, 'kafka'>,
  logger?: Logger,
  overrides: Partial<KafkaSettings> = {},
): KafkaClient {
  const settings: KafkaSettings = {
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    logger,
    ...overrides,
  };
  const adapter = resolveAdapter(config.kafka.client);
  const module = adapter === 'confluent' ? loadConfluent() : null;
  return module ? module.confluentClient(settings) : kafkajsClient(settings);
}

/** Resolves when a broker answers within `timeoutMs`; rejects otherwise. */
export async function pingKafka(config: Pick<Config, 'kafka'>, timeoutMs: number): Promise<void> {
  const admin = createKafkaClient(config, undefined, { requestTimeoutMs: timeoutMs }).admin();
  try {
    await withTimeout(
      admin.brokers(),
      timeoutMs,
      `no answer from ${config.kafka.brokers.join(',')} within ${timeoutMs} ms`,
    );
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/**
 * Reads `partitions` from their start to their current end (or to `until`, per
 * `topic#partition`), committed records only, in offset order per partition; returns how many
 * records were read. Callers that must see a final end fence the writers first. `from` (per
 * `topic#partition`) starts a partition later than its start.
 */
export async function readToEnd(
  kafka: KafkaClient,
  partitions: TopicPartition[],
  onBatch: (batch: RecordBatch) => Promise<void> | void,
  until?: Map<string, bigint>,
  from?: Map<string, bigint>,
): Promise<number> {
  const admin = kafka.admin();
  const ranges: { topic: string; partition: number; from: bigint; until: bigint }[] = [];
  try {
    for (const topic of new Set(partitions.map((p) => p.topic))) {
      for (const { partition, low, high } of await admin.offsets(topic)) {
        if (!partitions.some((p) => p.topic === topic && p.partition === partition)) continue;
        const limit = until?.get(`${topic}#${partition}`);
        const end = limit !== undefined && limit < high ? limit : high;
        const start = from?.get(`${topic}#${partition}`);
        ranges.push({
          topic,
          partition,
          from: start !== undefined && start > low ? start : low,
          until: end,
        });
      }
    }
  } finally {
    await admin.close();
  }
  let count = 0;
  const reader = kafka.reader();
  try {
    await reader.read(ranges, async (batch) => {
      count += batch.records.length;
      await onBatch(batch);
    });
  } finally {
    await reader.close();
  }
  return count;
}

/** `topic#partition`: the key positions and offsets are kept under. */
export const partitionKey = (p: TopicPartition): string => `${p.topic}#${p.partition}`;

/** The next offset after `position`'s record. */
export const nextAfter = (position: TopicPartitionOffset): TopicPartitionOffset => ({
  ...position,
  offset: position.offset + 1n,
});
