import path from 'node:path';
import { z } from 'zod';
import { OperatorError } from './errors';
import { redactSecrets } from './redact';
import { REPO_ROOT } from './repo-root';

/** Thrown when an environment variable has a bad value; the message names the variable. */
export class ConfigError extends OperatorError {
  override name = 'ConfigError';
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port');

const commaList = <T extends z.ZodType<unknown, string>>(item: T) =>
  z
    .string()
    .transform((s) => s.split(',').map((part) => part.trim()))
    .pipe(z.array(item).min(1));

/** A probability such as `0`, `0.25` or `1`. */
const rate = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'expected a number from 0 to 1')
  .transform(Number)
  .pipe(z.number().min(0, 'expected a number from 0 to 1').max(1, 'expected a number from 0 to 1'));

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

/** A claim name, or a dotted path into nested claims (e.g. `realm_access.roles`). */
const claimPath = z
  .string()
  .regex(
    /^[^.\s]+(\.[^.\s]+)*$/,
    'expected a claim name or a dotted path such as realm_access.roles',
  );

/** Signs the tokens of `orderstream token` locally; production sets its own JWT_SECRET. */
export const DEV_JWT_SECRET = 'orderstream-local-development-secret-not-for-production';

/** Every environment variable orderstream reads, with its local default (see README). */
const envSchema = z.object({
  KAFKA_BROKERS: commaList(hostPort).default(['127.0.0.1:9092']),
  KAFKA_CLIENT_ID: z.string().min(1).default('orderstream'),
  KAFKA_CLIENT: z.enum(['auto', 'kafkajs', 'confluent']).default('auto'),
  KAFKA_CONTROLLER_PORT: int(1, 65535).default(9093),
  KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mMgG]$/, 'expected a JVM heap size such as 512m')
    .default('512m'),
  KAFKA_JARS_DIR: z
    .string()
    .min(1)
    .default(path.join(REPO_ROOT, 'infra', 'kafka', 'lib')),
  CONSUMER_STALL_MS: int(0, 3_600_000).default(0),
  TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"')
    .max(100)
    .default('orderstream'),
  TOPIC_PARTITIONS: int(1, 1000).default(6),
  COMMAND_RETENTION_MS: int(60_000, Number.MAX_SAFE_INTEGER).default(7 * 24 * 3600 * 1000),
  SAGA_RETRY_DELAYS_MS: commaList(int(1, 24 * 3600 * 1000)).default([1000, 10_000, 60_000]),
  POSTGRES_URL: url(['postgres:', 'postgresql:']).default(
    'postgres://postgres@127.0.0.1:5432/postgres',
  ),
  POSTGRES_SHARDS: int(1, 64).default(4),
  POSTGRES_DATABASE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'expected lower-case letters, digits and "_"')
    .max(40)
    .default('orderstream'),
  POSTGRES_SHARD_URLS: commaList(url(['postgres:', 'postgresql:'])).optional(),
  POSTGRES_FOLLOWER_SHARD_URLS: commaList(url(['postgres:', 'postgresql:'])).optional(),
  CONSISTENCY_WAIT_MS: int(0, 60_000).default(5000),
  FOLLOWER_MAX_LAG: int(0, Number.MAX_SAFE_INTEGER).default(1000),
  PROJECTION_BATCH_SIZE: int(1, 100_000).default(500),
  PROJECTIONS: commaList(
    z.enum(['read-model', 'read-model-follower', 'views', 'analytics']),
  ).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().min(1).default('orderstream:'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  COMMAND_API_PORT: int(0, 65535).default(3001),
  QUERY_API_PORT: int(0, 65535).default(3002),
  PROJECTORS_PORT: int(0, 65535).default(3004),
  SAGAS_PORT: int(0, 65535).default(3005),
  QUERY_API_WORKERS: int(1, 64).default(1),
  QUERY_API_PG_POOL_SIZE: int(1, 100).default(8),
  HTTP_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb')
    .default('100kb'),
  COMMAND_TIMEOUT_MS: int(1, 600_000).default(5000),
  COMMAND_SESSION_TIMEOUT_MS: int(6000, 300_000).default(10_000),
  COMMAND_BATCH_SIZE: int(1, 10_000).default(200),
  COMMAND_MAX_IN_FLIGHT: int(1, 1_000_000).default(2000),
  COMMAND_QUEUE_BUDGET_MS: int(1, 600_000).default(400),
  IDEMPOTENCY_WINDOW: int(1, 10_000_000).default(100_000),
  SNAPSHOT_EVERY_EVENTS: int(0, 100_000_000).default(20_000),
  JWT_SECRET: z.string().min(32, 'expected at least 32 characters').default(DEV_JWT_SECRET),
  JWT_ISSUER: z.string().min(1).default('orderstream'),
  JWT_AUDIENCE: z.string().min(1).default('orderstream'),
  JWT_JWKS_URL: url(['http:', 'https:']).optional(),
  JWT_ROLE_CLAIM: claimPath.default('role'),
  JWT_CUSTOMER_CLAIM: claimPath.default('sub'),
  JWT_ROLE_MAP: commaList(
    z
      .string()
      .regex(/^[^=]+=(admin|customer|service)$/, 'expected <claim value>=<admin|customer|service>'),
  ).optional(),
  RATE_LIMIT_WINDOW_S: int(1, 24 * 3600).default(60),
  RATE_LIMIT_PER_PRINCIPAL: int(0, Number.MAX_SAFE_INTEGER).default(3_000_000),
  RATE_LIMIT_PER_IP: int(0, Number.MAX_SAFE_INTEGER).default(60_000),
  HEALTH_TIMEOUT_MS: int(50, 60_000).default(1000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_ENABLED: z.enum(['true', 'false']).default('true'),
  // OpenTelemetry's own names (the SDK's exporters read the OTLP ones themselves).
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'zipkin', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: url(['http:', 'https:']).default(
    'http://127.0.0.1:9411/api/v2/spans',
  ),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .optional(),
  OTEL_TRACES_SAMPLER_ARG: rate.optional(),
  INFRA_START_LOCAL: z.enum(['true', 'false']).default('true'),
  ORDERSTREAM_STATE_DIR: z.string().min(1).default(path.join(REPO_ROOT, '.orderstream')),
  SAGA_DEADLINE_MS: int(100, 7 * 24 * 3600 * 1000).default(15 * 60 * 1000),
  SAGA_GATEWAY_TIMEOUT_MS: int(10, 600_000).default(3000),
  SAGA_BREAKER_THRESHOLD: int(1, 1000).default(5),
  SAGA_BREAKER_COOLDOWN_MS: int(10, 3_600_000).default(5000),
  PAYMENT_GATEWAY_PORT: int(0, 65535).default(3003),
  PAYMENT_GATEWAY_URL: url(['http:', 'https:']).optional(),
  PAYMENT_LATENCY_MS: int(0, 600_000).default(20),
  PAYMENT_FAILURE_RATE: rate.default(0),
  PAYMENT_TIMEOUT_RATE: rate.default(0),
  PAYMENT_GATEWAY_TIMEOUT_HANG_MS: int(0, 600_000).default(30_000),
  PAYMENT_DECLINE_OVER_AMOUNT: int(0, Number.MAX_SAFE_INTEGER).optional(),
  PAYMENT_DECLINE_CUSTOMERS: commaList(z.string().min(1, 'expected no empty customer id')).default(
    [],
  ),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    /** Which adapter of the Kafka port (lib/kafka): `auto` = the native one when built. */
    client: 'auto' | 'kafkajs' | 'confluent';
    controllerPort: number;
    heap: string;
    /** Where Maven puts the broker jars and the local broker runs them from. */
    jarsDir: string;
    /** A consumer with records waiting and no position moving for this long is restarted (0: never). */
    consumerStallMs: number;
  };
  topics: {
    prefix: string;
    partitions: number;
    commandRetentionMs: number;
    sagaRetryDelaysMs: number[];
  };
  postgres: {
    /** Server-level URL used to create the shard databases. */
    adminUrl: string;
    /** One URL per read-model shard, in ring order. */
    shardUrls: string[];
    /** The variable the shard URLs come from, for messages. */
    shardUrlsFrom: 'POSTGRES_URL' | 'POSTGRES_SHARD_URLS';
    /** POSTGRES_DATABASE_PREFIX: derived shard databases are `<prefix>_shard_<i>`. */
    databasePrefix: string;
    /** Read replicas built by replay: one per shard, same order; empty when none. */
    followerShardUrls: string[];
  };
  queryApi: {
    /** Processes serving the query API's port (node:cluster); 1 = the process itself. */
    workers: number;
    /** Connections per leader shard in each query-api process. */
    pgPoolSize: number;
  };
  readSide: {
    /** Longest a read with a consistency token waits for the projection to pass it. */
    consistencyWaitMs: number;
    /** A follower further behind its leader (in events, any partition) is not read. */
    followerMaxLag: number;
    /** Most events a projection applies in one step. */
    projectionBatchSize: number;
    /** Projections this projectors process runs; undefined = all configured. */
    projections?: ('read-model' | 'read-model-follower' | 'views' | 'analytics')[];
  };
  redis: { url: string; keyPrefix: string };
  http: {
    host: string;
    commandApiPort: number;
    queryApiPort: number;
    /** Health and metrics of the projectors and sagas processes (they serve no API). */
    projectorsPort: number;
    sagasPort: number;
    bodyLimit: string;
  };
  commands: {
    /** How long the command API waits for an outcome before answering 202. */
    timeoutMs: number;
    sessionTimeoutMs: number;
    maxPerTransaction: number;
    /** Commands a command-api process takes at once; past it, 503 with Retry-After. */
    maxInFlight: number;
    /** How long a command may wait for its owner's next transaction before it is refused (503). */
    queueBudgetMs: number;
    /** Command outcomes each partition owner remembers for idempotency. */
    idempotencyWindow: number;
    /** Events a partition owner appends between snapshots of its state (0: none). */
    snapshotEveryEvents: number;
  };
  jwt: {
    /** HS256 key of local tokens (`orderstream token`); unused when jwksUrl is set. */
    secret: string;
    issuer: string;
    audience: string;
    /** An external issuer's JWKS: tokens are RS256/ES256 signed by one of its keys. */
    jwksUrl?: string;
    /** Where the role sits in a token's claims (a dotted path; a string or an array of them). */
    roleClaim: string;
    /** Where the customer id (and the subject of other roles) sits in a token's claims. */
    customerClaim: string;
    /** Role claim values of the issuer, by the role they mean here; a value not in it is taken as is. */
    roleMap: Record<string, 'admin' | 'customer' | 'service'>;
  };
  /** Requests per window a principal (or an unauthenticated IP) may make; 0 = no limit. */
  rateLimit: { windowSeconds: number; perPrincipal: number; perIp: number };
  healthTimeoutMs: number;
  logLevel: Env['LOG_LEVEL'];
  /** Are Prometheus metrics recorded and served at `/metrics` (on unless turned off)? */
  metricsEnabled: boolean;
  /** Where traces go: off (`none`) unless an exporter or an OTLP endpoint is given. */
  tracing: {
    exporter: 'otlp' | 'zipkin' | 'console' | 'none';
    zipkinEndpoint: string;
    /** Overrides the service name each process gives itself. */
    serviceName?: string;
  };
  /** May `infra up` start a local broker or private Postgres/Redis when none answers? */
  startLocalInfra: boolean;
  stateDir: string;
  /** The payment gateway simulator (infra/payment-gateway) and where its clients find it. */
  saga: {
    /** An order still pending this long after it was placed is cancelled. */
    deadlineMs: number;
    /** Longest wait for the payment gateway; past it the call is retried later. */
    gatewayTimeoutMs: number;
    /** Transient gateway failures in a row that open the circuit breaker. */
    breakerThreshold: number;
    /** How long the open breaker keeps calls from the gateway. */
    breakerCooldownMs: number;
  };
  paymentGateway: {
    port: number;
    /** Base URL clients (the saga) call; defaults to http://127.0.0.1:<port>. */
    url: string;
    /** Initial behaviour; `PUT /admin/behaviour` changes it at runtime. */
    latencyMs: number;
    /** Share of calls answered 503 (transient, not remembered). */
    failureRate: number;
    /** Share of calls that hang for timeoutHangMs, then 504. */
    timeoutRate: number;
    timeoutHangMs: number;
    /** Authorizations above this amount (minor units) are declined; undefined = never. */
    declineOverAmount?: number;
    /** Customers whose authorizations are always declined. */
    declineCustomers: string[];
  };
}

export function shardDatabaseName(prefix: string, index: number): string {
  return `${prefix}_shard_${index}`;
}

/**
 * The URLs of the first `count` read-model shards. A generation records the shards its ring
 * uses (read-models/postgres/generations.ts), which may be more than this process was started
 * with after `orderstream shards add`: derived URLs (POSTGRES_SHARDS) name any shard, so
 * running processes follow a grow; a POSTGRES_SHARD_URLS list must name every one.
 */
export function shardUrlsFor(postgres: Config['postgres'], count: number): string[] {
  if (count <= postgres.shardUrls.length) return postgres.shardUrls.slice(0, count);
  if (postgres.shardUrlsFrom === 'POSTGRES_SHARD_URLS') {
    throw new ConfigError(
      `the read model uses ${count} shards but POSTGRES_SHARD_URLS lists ${postgres.shardUrls.length}: list every shard's database`,
    );
  }
  return Array.from({ length: count }, (_, i) =>
    i < postgres.shardUrls.length
      ? (postgres.shardUrls[i] as string)
      : withDatabase(postgres.adminUrl, shardDatabaseName(postgres.databasePrefix, i)),
  );
}

function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Variables whose value is a secret as a whole: an error names them, never shows them. */
const SECRET_VARIABLES = new Set(['JWT_SECRET']);

/** `NAME="value"` for an error message, with secrets hidden and URL passwords masked. */
function shownValue(name: string, value: string | undefined): string {
  if (SECRET_VARIABLES.has(name)) return `${name} (value hidden, ${value?.length ?? 0} characters)`;
  return `${name}=${JSON.stringify(redactSecrets(value ?? ''))}`;
}

/** Reads and validates the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "use the default", as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${shownValue(name, env[name])}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.POSTGRES_FOLLOWER_SHARD_URLS) {
    const shards = e.POSTGRES_SHARD_URLS?.length ?? e.POSTGRES_SHARDS;
    if (e.POSTGRES_FOLLOWER_SHARD_URLS.length !== shards) {
      throw new ConfigError(
        `Invalid configuration: POSTGRES_FOLLOWER_SHARD_URLS has ${e.POSTGRES_FOLLOWER_SHARD_URLS.length} URLs; one per shard (${shards}) is needed`,
      );
    }
  }
  const shardUrls =
    e.POSTGRES_SHARD_URLS ??
    Array.from({ length: e.POSTGRES_SHARDS }, (_, i) =>
      withDatabase(e.POSTGRES_URL, shardDatabaseName(e.POSTGRES_DATABASE_PREFIX, i)),
    );
  return {
    kafka: {
      brokers: e.KAFKA_BROKERS,
      clientId: e.KAFKA_CLIENT_ID,
      client: e.KAFKA_CLIENT,
      controllerPort: e.KAFKA_CONTROLLER_PORT,
      heap: e.KAFKA_HEAP,
      jarsDir: path.resolve(e.KAFKA_JARS_DIR),
      consumerStallMs: e.CONSUMER_STALL_MS,
    },
    topics: {
      prefix: e.TOPIC_PREFIX,
      partitions: e.TOPIC_PARTITIONS,
      commandRetentionMs: e.COMMAND_RETENTION_MS,
      sagaRetryDelaysMs: e.SAGA_RETRY_DELAYS_MS,
    },
    postgres: {
      adminUrl: e.POSTGRES_URL,
      shardUrls,
      shardUrlsFrom: e.POSTGRES_SHARD_URLS ? 'POSTGRES_SHARD_URLS' : 'POSTGRES_URL',
      databasePrefix: e.POSTGRES_DATABASE_PREFIX,
      followerShardUrls: e.POSTGRES_FOLLOWER_SHARD_URLS ?? [],
    },
    queryApi: { workers: e.QUERY_API_WORKERS, pgPoolSize: e.QUERY_API_PG_POOL_SIZE },
    readSide: {
      consistencyWaitMs: e.CONSISTENCY_WAIT_MS,
      followerMaxLag: e.FOLLOWER_MAX_LAG,
      projectionBatchSize: e.PROJECTION_BATCH_SIZE,
      projections: e.PROJECTIONS,
    },
    redis: { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX },
    http: {
      host: e.HTTP_HOST,
      commandApiPort: e.COMMAND_API_PORT,
      queryApiPort: e.QUERY_API_PORT,
      projectorsPort: e.PROJECTORS_PORT,
      sagasPort: e.SAGAS_PORT,
      bodyLimit: e.HTTP_BODY_LIMIT,
    },
    commands: {
      timeoutMs: e.COMMAND_TIMEOUT_MS,
      sessionTimeoutMs: e.COMMAND_SESSION_TIMEOUT_MS,
      maxPerTransaction: e.COMMAND_BATCH_SIZE,
      maxInFlight: e.COMMAND_MAX_IN_FLIGHT,
      queueBudgetMs: e.COMMAND_QUEUE_BUDGET_MS,
      idempotencyWindow: e.IDEMPOTENCY_WINDOW,
      snapshotEveryEvents: e.SNAPSHOT_EVERY_EVENTS,
    },
    jwt: {
      secret: e.JWT_SECRET,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      jwksUrl: e.JWT_JWKS_URL,
      roleClaim: e.JWT_ROLE_CLAIM,
      customerClaim: e.JWT_CUSTOMER_CLAIM,
      roleMap: Object.fromEntries(
        (e.JWT_ROLE_MAP ?? []).map((pair) => {
          const at = pair.lastIndexOf('=');
          return [pair.slice(0, at), pair.slice(at + 1) as 'admin' | 'customer' | 'service'];
        }),
      ),
    },
    rateLimit: {
      windowSeconds: e.RATE_LIMIT_WINDOW_S,
      perPrincipal: e.RATE_LIMIT_PER_PRINCIPAL,
      perIp: e.RATE_LIMIT_PER_IP,
    },
    healthTimeoutMs: e.HEALTH_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    metricsEnabled: e.METRICS_ENABLED === 'true',
    tracing: {
      exporter: e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : 'none'),
      zipkinEndpoint: e.OTEL_EXPORTER_ZIPKIN_ENDPOINT,
      ...(e.OTEL_SERVICE_NAME && { serviceName: e.OTEL_SERVICE_NAME }),
    },
    startLocalInfra: e.INFRA_START_LOCAL === 'true',
    stateDir: path.resolve(e.ORDERSTREAM_STATE_DIR),
    saga: {
      deadlineMs: e.SAGA_DEADLINE_MS,
      gatewayTimeoutMs: e.SAGA_GATEWAY_TIMEOUT_MS,
      breakerThreshold: e.SAGA_BREAKER_THRESHOLD,
      breakerCooldownMs: e.SAGA_BREAKER_COOLDOWN_MS,
    },
    paymentGateway: {
      port: e.PAYMENT_GATEWAY_PORT,
      url: (e.PAYMENT_GATEWAY_URL ?? `http://127.0.0.1:${e.PAYMENT_GATEWAY_PORT}`).replace(
        /\/+$/,
        '',
      ),
      latencyMs: e.PAYMENT_LATENCY_MS,
      failureRate: e.PAYMENT_FAILURE_RATE,
      timeoutRate: e.PAYMENT_TIMEOUT_RATE,
      timeoutHangMs: e.PAYMENT_GATEWAY_TIMEOUT_HANG_MS,
      declineOverAmount: e.PAYMENT_DECLINE_OVER_AMOUNT,
      declineCustomers: e.PAYMENT_DECLINE_CUSTOMERS,
    },
  };
}

/** Names of every variable loadConfig reads (the README's table lists the same). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);
