import type { Config } from './config';
import { OperatorError } from './errors';
import { createKafkaClient, pingKafka } from './kafka';
import { databaseOf, pingPostgres } from './postgres';
import { redactSecrets, redactUrl } from './redact';
import { pingRedis } from './redis';

export type Dependency = 'kafka' | 'postgres' | 'redis';

/** Long enough for a busy server; a refused connection fails at once anyway. */
const PROBE_TIMEOUT_MS = 3000;

const why = (err: unknown) =>
  redactSecrets((err instanceof Error ? err.message : String(err)).split('\n')[0] || 'no answer');

/** Undefined when `probe` resolves; otherwise why it failed, in one line safe to print. */
export function noAnswer(probe: Promise<unknown>): Promise<string | undefined> {
  return probe.then(() => undefined, why);
}

/**
 * Checks, all at once and quickly, that the dependencies a command needs answer; throws one
 * OperatorError with a line per one that does not, naming where it was looked for and the
 * variable that points there. Run it before making clients that retry for seconds and end
 * with a library's stack trace.
 */
export async function requireReachable(config: Config, needs: Dependency[]): Promise<void> {
  const checks: Promise<string[]>[] = [];
  if (needs.includes('kafka')) {
    checks.push(
      pingKafka(config, PROBE_TIMEOUT_MS).then(
        () => [],
        (err: unknown) => [
          `Kafka broker not reachable at ${config.kafka.brokers.join(',')} (KAFKA_BROKERS: ${why(err)}): start it (\`orderstream infra up\`), or point KAFKA_BROKERS at a running broker`,
        ],
      ),
    );
  }
  if (needs.includes('postgres')) checks.push(postgresProblems(config));
  if (needs.includes('redis')) {
    checks.push(
      pingRedis(config.redis.url, PROBE_TIMEOUT_MS).then(
        () => [],
        (err: unknown) => [
          `Redis not reachable at ${redactUrl(config.redis.url)} (REDIS_URL: ${why(err)}): start it (\`orderstream infra up\`), or point REDIS_URL at a running server`,
        ],
      ),
    );
  }
  const problems = (await Promise.all(checks)).flat();
  if (problems.length > 0) throw new OperatorError(problems.join('\n'));
}

/** Every shard database (and follower) answers; problems grouped per server, one line each. */
async function postgresProblems(config: Config): Promise<string[]> {
  const groups: [string, string[]][] = [
    [config.postgres.shardUrlsFrom, config.postgres.shardUrls],
    ['POSTGRES_FOLLOWER_SHARD_URLS', config.postgres.followerShardUrls],
  ];
  const problems = new Map<string, string>();
  const missing = new Map<string, { variable: string; databases: string[] }>();
  await Promise.all(
    groups.flatMap(([name, urls]) =>
      urls.map(async (url) => {
        const server = serverOf(url);
        try {
          await pingPostgres(url, PROBE_TIMEOUT_MS);
        } catch (err) {
          if ((err as { code?: string }).code === '3D000') {
            const entry = missing.get(server) ?? { variable: name, databases: [] };
            entry.databases.push(databaseOf(url));
            missing.set(server, entry);
          } else {
            problems.set(
              server,
              `PostgreSQL not reachable at ${server} (${name}: ${why(err)}): start it (\`orderstream infra up\`), or point ${name} at a running server`,
            );
          }
        }
      }),
    ),
  );
  for (const [server, { variable: name, databases }] of missing) {
    problems.set(
      `${server}#missing`,
      `shard databases missing at ${server} (${name}): ${databases.sort().join(', ')}: create them with \`orderstream infra up\``,
    );
  }
  return [...problems.values()];
}

function serverOf(url: string): string {
  const u = new URL(redactUrl(url));
  u.pathname = '';
  u.search = '';
  return u.toString().replace(/\/$/, '');
}

/**
 * Every topic in `topics` exists; otherwise one OperatorError naming the missing ones and the
 * fix. A client subscribing or writing to a missing topic (the broker does not create topics
 * on use) would fail later with an opaque "does not host this topic-partition".
 */
export async function requireTopics(
  config: Config,
  topics: string[],
  settings = 'TOPIC_PREFIX',
): Promise<void> {
  const admin = createKafkaClient(config).admin();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw new OperatorError(
        `Kafka topics missing at ${config.kafka.brokers.join(',')}: ${missing.join(', ')} (they follow ${settings}): create them with \`orderstream infra up\` run with the same settings`,
      );
    }
  } finally {
    await admin.close();
  }
}
