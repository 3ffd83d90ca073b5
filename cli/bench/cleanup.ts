import { Client, escapeIdentifier } from 'pg';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';
import { Redis } from '../../lib/redis';
import type { RunNames } from './run-names';

/**
 * Removes what one bench run created: its topics and consumer groups (everything under the
 * run's Kafka prefix), its shard databases and its Redis keys. Each part is tried even when
 * another fails; the failures are returned, one line each.
 */
export async function removeRunData(config: Config, names: RunNames): Promise<string[]> {
  const results = await Promise.allSettled([
    dropKafka(config, names.kafkaPrefix),
    dropDatabases(config.postgres.adminUrl, names.databasePrefix),
    dropKeys(config.redis.url, names.redisKeyPrefix),
  ]);
  const parts = ['kafka topics and groups', 'shard databases', 'redis keys'];
  return results.flatMap((r, i) =>
    r.status === 'rejected'
      ? [
          `could not remove the run's ${parts[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`,
        ]
      : [],
  );
}

async function dropKafka(config: Config, prefix: string): Promise<void> {
  const admin = createKafkaClient({ kafka: { ...config.kafka, client: 'kafkajs' } }).admin();
  try {
    // Groups first: a group is removable once its members left (the stack is stopped).
    const groups = (await admin.listGroups()).filter((g) => g.startsWith(prefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics(topics);
  } finally {
    await admin.close();
  }
}

async function dropDatabases(adminUrl: string, prefix: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database');
    // Compared in JavaScript: "_" is a wildcard in LIKE.
    const ours = rows.map((r) => r.datname).filter((name) => name.startsWith(`${prefix}_`));
    for (const datname of ours)
      await client.query(`drop database if exists ${escapeIdentifier(datname)} with (force)`);
  } finally {
    await client.end();
  }
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
