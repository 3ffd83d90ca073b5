import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { pingKafka } from '../lib/kafka';
import { pingPostgres } from '../lib/postgres';
import { redactUrl } from '../lib/redact';
import { pingRedis } from '../lib/redis';
import { ensureBroker, runningBrokerPids, stopBroker } from './kafka-broker';
import { countTopics, ensureTopics } from './kafka-topics';
import {
  ensurePostgresServer,
  ensureShardDatabases,
  privatePostgresDir,
  type ServerOutcome,
  shardStatus,
  stopPrivatePostgres,
} from './postgres-server';
import { runningPid } from './process-control';
import { ensureRedisServer, runningPrivateRedisPid, stopPrivateRedis } from './redis-server';
import {
  ensureZipkin,
  runningZipkinPid,
  stopZipkin,
  zipkinAddress,
  zipkinAnswers,
} from './zipkin-server';

export type Component = 'kafka' | 'postgres' | 'redis' | 'zipkin';

/** What `infra up --with` may add to the broker, Postgres and Redis. */
export interface UpOptions {
  /** Also a trace viewer: Zipkin at OTEL_EXPORTER_ZIPKIN_ENDPOINT's address. */
  tracing?: boolean;
}
export type Say = (line: string) => void;

export interface UpReport {
  /** What this call started (and so what a matching `down` may stop). */
  started: Component[];
  createdTopics: string[];
  createdDatabases: string[];
  /** Shard databases this call applied migrations to. */
  migratedDatabases: string[];
}

/** One line saying what `infra up` did, or that there was nothing to do. */
export function upSummary(report: UpReport): string {
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const did = [
    report.started.length > 0 && `started ${report.started.join(', ')}`,
    report.createdTopics.length > 0 &&
      `created ${count(report.createdTopics.length, 'topic', 'topics')}`,
    report.createdDatabases.length > 0 &&
      `created ${count(report.createdDatabases.length, 'shard database', 'shard databases')}`,
    report.migratedDatabases.length > 0 &&
      `migrated ${count(report.migratedDatabases.length, 'shard database', 'shard databases')}`,
  ].filter(Boolean);
  return did.length > 0
    ? `infra up: ${did.join('; ')}`
    : 'infra up: everything was already running and set up';
}

/**
 * Brings the broker, the Postgres shard databases and Redis up; idempotent. Reuses whatever
 * already answers, starts locally what does not (when allowed), then creates the topics,
 * shard databases and migrations. Every failure is reported, one line each.
 */
export async function infraUp(
  config: Config,
  say: Say,
  options: UpOptions = {},
): Promise<UpReport> {
  const report: UpReport = {
    started: [],
    createdTopics: [],
    createdDatabases: [],
    migratedDatabases: [],
  };
  const steps: [Component, () => Promise<ServerOutcome>][] = [
    [
      'kafka',
      async () => {
        const outcome = await ensureBroker(config, say);
        const created = await ensureTopics(config);
        report.createdTopics = created;
        if (created.length > 0)
          say(`kafka: created ${created.length} topics (prefix ${config.topics.prefix})`);
        return outcome;
      },
    ],
    [
      'postgres',
      async () => {
        const outcome = await ensurePostgresServer(config, say);
        const { created, migrated } = await ensureShardDatabases(config);
        report.createdDatabases = created;
        report.migratedDatabases = migrated;
        if (created.length > 0) say(`postgres: created shard databases ${created.join(', ')}`);
        if (migrated.length > 0) say(`postgres: migrated ${migrated.join(', ')}`);
        return outcome;
      },
    ],
    ['redis', () => ensureRedisServer(config, say)],
    ...(options.tracing
      ? [['zipkin', () => ensureZipkin(config, say)] as [Component, () => Promise<ServerOutcome>]]
      : []),
  ];
  const results = await Promise.allSettled(steps.map(([, run]) => run()));
  const failures = results.flatMap((r, i) =>
    r.status === 'rejected' ? [describeFailure(steps[i]?.[0] ?? 'kafka', r.reason)] : [],
  );
  report.started = steps
    .map(([c]) => c)
    .filter((_, i) => {
      const r = results[i];
      return r?.status === 'fulfilled' && r.value === 'started';
    });
  if (failures.length > 0) {
    // Leave nothing half-started behind a failed `up`.
    await infraDown(config, () => undefined, report.started);
    throw new OperatorError(failures.join('\n'));
  }
  return report;
}

function describeFailure(component: Component, reason: unknown): string {
  if (reason instanceof OperatorError) return reason.message;
  const message = reason instanceof Error ? reason.message : String(reason);
  return `${component}: ${message}`;
}

/** Stops what `infra up` started (by pid), newest first; data stays. */
export async function infraDown(
  config: Config,
  say: Say,
  only: Component[] = ['kafka', 'postgres', 'redis', 'zipkin'],
): Promise<Component[]> {
  const stopped: Component[] = [];
  if (only.includes('zipkin')) {
    const pid = await stopZipkin(config.stateDir);
    if (pid) {
      say(`zipkin: stopped (pid ${pid})`);
      stopped.push('zipkin');
    }
  }
  if (only.includes('redis')) {
    const pid = await stopPrivateRedis(config.stateDir);
    if (pid) {
      say(`redis: stopped private redis-server (pid ${pid})`);
      stopped.push('redis');
    }
  }
  if (only.includes('postgres') && (await stopPrivatePostgres(config.stateDir))) {
    say(`postgres: stopped private cluster in ${privatePostgresDir(config.stateDir)}`);
    stopped.push('postgres');
  }
  if (only.includes('kafka')) {
    const pids = await stopBroker(config.stateDir);
    if (pids.length > 0) {
      say(`kafka: stopped ${pids.length === 1 ? 'broker' : 'brokers'} (pid ${pids.join(', ')})`);
      stopped.push('kafka');
    }
  }
  if (stopped.length === 0)
    say('nothing to stop: no process started by `orderstream infra up` is running');
  return stopped;
}

export interface ComponentStatus {
  component: Component;
  up: boolean;
  where: string;
  /** Who runs it: the pid of the process `infra up` started, or "external"; empty when down. */
  owner: string;
  detail: string;
  /** Up and set up as configured (topics with the configured partitions, shards migrated). */
  ok: boolean;
}

/** What is up, where, who started it, and whether topics and shard databases are in place. */
export async function infraStatus(config: Config): Promise<ComponentStatus[]> {
  const owner = (up: boolean, pid: number | string | undefined) =>
    !up ? '' : pid ? `started by orderstream (pid ${pid})` : 'external';
  const answers = (ping: Promise<void>) =>
    ping.then(
      () => true,
      () => false,
    );
  const zipkin = zipkinAddress(config);
  const [kafkaUp, postgresUp, redisUp, zipkinUp] = await Promise.all([
    answers(pingKafka(config, 2000)),
    answers(pingPostgres(config.postgres.adminUrl, 2000)),
    answers(pingRedis(config.redis.url, 2000)),
    zipkinAnswers(zipkin.origin),
  ]);
  const topics = kafkaUp ? await countTopics(config) : undefined;
  const mismatched = topics?.mismatched ?? [];
  const shards = postgresUp ? await shardStatus(config) : [];
  const migrated = shards.filter((s) => s.state === 'migrated').length;
  const postgresPid = runningPid(
    `${privatePostgresDir(config.stateDir)}/postmaster.pid`,
    'postgres',
  );
  return [
    {
      component: 'kafka',
      up: kafkaUp,
      where: config.kafka.brokers.join(','),
      owner: owner(kafkaUp, runningBrokerPids(config.stateDir).join(', ') || undefined),
      detail: topics
        ? `${topics.brokers} ${topics.brokers === 1 ? 'broker' : 'brokers'} · topics ${topics.present}/${topics.wanted} (prefix ${config.topics.prefix})${
            mismatched.length > 0
              ? `; ${mismatched.length} with other partition counts than configured: ${mismatched
                  .map((t) => `${t.name} has ${t.partitions}, wants ${t.wanted}`)
                  .join(', ')} (TOPIC_PARTITIONS=${config.topics.partitions})`
              : ''
          }`
        : '',
      ok: kafkaUp && topics?.present === topics?.wanted && mismatched.length === 0,
    },
    {
      component: 'postgres',
      up: postgresUp,
      where: redactUrl(config.postgres.adminUrl),
      owner: owner(postgresUp, postgresPid),
      detail: postgresUp
        ? `shards ${migrated}/${shards.length} migrated${
            migrated < shards.length
              ? ` (${shards
                  .filter((s) => s.state !== 'migrated')
                  .map((s) => `${s.database}: ${s.state}`)
                  .join(', ')})`
              : ''
          }`
        : '',
      ok: postgresUp && migrated === shards.length,
    },
    {
      component: 'redis',
      up: redisUp,
      where: redactUrl(config.redis.url),
      owner: owner(redisUp, runningPrivateRedisPid(config.stateDir)),
      detail: '',
      ok: redisUp,
    },
    // Only when up: tracing is optional (`infra up --with tracing`).
    ...(zipkinUp
      ? [
          {
            component: 'zipkin' as const,
            up: true,
            where: `${zipkin.origin}/zipkin/`,
            owner: owner(true, runningZipkinPid(config.stateDir)),
            detail: 'trace viewer',
            ok: true,
          },
        ]
      : []),
  ];
}
