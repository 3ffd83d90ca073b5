import type { KafkaAdapterName } from '../../lib/kafka';

/**
 * Everything one bench run creates is named under its id, so it never touches another run's
 * (or anyone's) topics, consumer groups, databases or keys, and can remove all of it after.
 */
export interface RunNames {
  id: string;
  /** Topics, consumer groups and transactional ids of the stack: `<topicPrefix>.…`. */
  topicPrefix: string;
  /** The raw baselines' topics, groups and transactional ids: `<rawPrefix>.…`. */
  rawPrefix: string;
  /** Everything Kafka-side of the run starts with this (both of the above). */
  kafkaPrefix: string;
  databasePrefix: string;
  redisKeyPrefix: string;
}

export function runNames(id: string): RunNames {
  return {
    id,
    topicPrefix: `bench-${id}`,
    rawPrefix: `bench-${id}-raw`,
    kafkaPrefix: `bench-${id}`,
    databasePrefix: `bench_${id}`,
    redisKeyPrefix: `bench:${id}:`,
  };
}

export interface StackPorts {
  commandApi: number;
  queryApi: number;
  paymentGateway: number;
  projectors: number;
  sagas: number;
}

/** Variables that would point the stack at someone else's data or gateway: never inherited. */
const NOT_INHERITED = [
  'POSTGRES_SHARD_URLS',
  'POSTGRES_FOLLOWER_SHARD_URLS',
  'PAYMENT_GATEWAY_URL',
  'PROJECTIONS',
];

/** The environment of the run's stack: the caller's, with the run's names, ports and adapter. */
export function stackEnv(
  base: NodeJS.ProcessEnv,
  names: RunNames,
  ports: StackPorts,
  adapter: KafkaAdapterName,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of NOT_INHERITED) delete env[name];
  return {
    ...env,
    TOPIC_PREFIX: names.topicPrefix,
    POSTGRES_DATABASE_PREFIX: names.databasePrefix,
    REDIS_KEY_PREFIX: names.redisKeyPrefix,
    KAFKA_CLIENT: adapter,
    HTTP_HOST: '127.0.0.1',
    COMMAND_API_PORT: String(ports.commandApi),
    QUERY_API_PORT: String(ports.queryApi),
    PAYMENT_GATEWAY_PORT: String(ports.paymentGateway),
    PROJECTORS_PORT: String(ports.projectors),
    SAGAS_PORT: String(ports.sagas),
    PAYMENT_LATENCY_MS: base.PAYMENT_LATENCY_MS || '20',
    PAYMENT_FAILURE_RATE: '0',
    PAYMENT_TIMEOUT_RATE: '0',
    LOG_LEVEL: 'warn',
    // Tracing off unless a part turns it on (the tracing part compares both).
    OTEL_TRACES_EXPORTER: 'none',
  };
}
