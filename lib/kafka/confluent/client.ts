import * as Confluent from '@confluentinc/kafka-javascript';
import { KafkaJS, type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { KafkaClient } from '../port';
import type { ErrorKind, KafkaSettings } from '../settings';
import { ConfluentAdmin } from './admin';
import { ConfluentGroupConsumer } from './group-consumer';
import { ConfluentLogReader } from './log-reader';
import { ConfluentProducer, ConfluentTransactionalProducer } from './producers';

/** librdkafka's error codes (the package exports them at run time only). */
export const ERRORS = (Confluent as unknown as { CODES: { ERRORS: Record<string, number> } }).CODES
  .ERRORS;

/** librdkafka settings every client shares (the compatible API takes the brokers itself). */
export function tuning(settings: KafkaSettings): Record<string, string | number | boolean> {
  return {
    // Loopback brokers answer at once; a dead one should be noticed quickly.
    'socket.connection.setup.timeout.ms': settings.requestTimeoutMs ?? 10_000,
    'reconnect.backoff.max.ms': 2000,
    // Idle clients stay quiet: metadata refreshed rarely, statistics off.
    'topic.metadata.refresh.interval.ms': 300_000,
    'statistics.interval.ms': 0,
    log_level: settings.logger ? 4 : 0,
  };
}

/** Settings for the low-level (node-rdkafka) clients. */
export function baseConfig(settings: KafkaSettings): Record<string, string | number | boolean> {
  return {
    ...tuning(settings),
    'bootstrap.servers': settings.brokers.join(','),
    'client.id': settings.clientId,
  };
}

/** The KafkaJS-compatible entry point, for the group consumer and admin client. */
export function compatKafka(settings: KafkaSettings): KafkaJS.Kafka {
  return new KafkaJS.Kafka({
    ...tuning(settings),
    kafkaJS: {
      brokers: settings.brokers,
      clientId: settings.clientId,
      logLevel: settings.logger ? KafkaJS.logLevel.WARN : KafkaJS.logLevel.NOTHING,
      ...(settings.logger && { logger: compatLogger(settings) }),
    },
  });
}

function compatLogger(settings: KafkaSettings): KafkaJS.Logger {
  const logger = settings.logger;
  const warn = (message: string, extra?: object): void => {
    logger?.warn({ kafka: extra }, message);
  };
  const quiet = (): void => undefined;
  const compat: KafkaJS.Logger = {
    // Rebalances and coordinator loading are routine: never reported as errors. The library
    // hands its own informational lines (connected, rebalance received) to this logger
    // whatever its level setting: only warnings and errors are kept, as with kafkajs.
    error: warn,
    warn,
    info: quiet,
    debug: quiet,
    namespace: () => compat,
    setLogLevel: () => undefined,
  };
  return compat;
}

export function confluentClient(settings: KafkaSettings): KafkaClient {
  const kafka = compatKafka(settings);
  return {
    adapter: 'confluent',
    admin: () => new ConfluentAdmin(kafka, settings),
    producer: () => new ConfluentProducer(settings),
    transactionalProducer: (id) => new ConfluentTransactionalProducer(settings, id),
    groupConsumer: (options) => new ConfluentGroupConsumer(kafka, options),
    reader: () => new ConfluentLogReader(settings),
  };
}

const FENCED = new Set([
  ERRORS.ERR__FENCED,
  ERRORS.ERR_PRODUCER_FENCED,
  ERRORS.ERR_INVALID_PRODUCER_EPOCH,
]);

const STALE_MEMBER = new Set([
  ERRORS.ERR_UNKNOWN_MEMBER_ID,
  ERRORS.ERR_ILLEGAL_GENERATION,
  ERRORS.ERR_REBALANCE_IN_PROGRESS,
]);

/** How a librdkafka error should be handled. */
export function classifyConfluentError(error: unknown): ErrorKind {
  const e = error as Partial<LibrdKafkaError> & { retriable?: boolean; abortable?: boolean };
  if (typeof e?.code === 'number' && FENCED.has(e.code)) return 'fenced';
  // Checked before `retriable`: librdkafka marks these abortable, but sent again at once
  // they fail again until the consumer has rejoined.
  if (typeof e?.code === 'number' && STALE_MEMBER.has(e.code)) return 'stale-member';
  if (e?.isTxnRequiresAbort || e?.isRetriable || e?.retriable || e?.abortable) return 'retriable';
  // A broker that restarts gets a new handle: requests still queued on the old one fail with
  // ERR__DESTROY_BROKER and succeed when sent again.
  if (
    e?.code === ERRORS.ERR__TIMED_OUT ||
    e?.code === ERRORS.ERR__TRANSPORT ||
    e?.code === ERRORS.ERR__DESTROY_BROKER
  )
    return 'retriable';
  return 'fatal';
}
