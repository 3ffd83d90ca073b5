import { Client, escapeIdentifier } from 'pg';
import { type Component, infraDown } from '../infra/local-infra';
import { loadConfig } from '../lib/config';
import { createKafkaClient } from '../lib/kafka';
import { Redis } from '../lib/redis';

/** Removes this run's topics, databases and keys, and stops what global-setup started. */
export default async function globalTeardown(): Promise<void> {
  const config = loadConfig();
  const id = process.env.ORDERSTREAM_TEST_RUN;
  if (id) {
    await Promise.allSettled([
      dropTopics(`ostest-${id}`),
      dropDatabases(config.postgres.adminUrl, `ostest_${id}`),
      dropKeys(config.redis.url, `ostest:${id}:`),
    ]);
  }
  const started = (process.env.ORDERSTREAM_TEST_STARTED ?? '')
    .split(',')
    .filter(Boolean) as Component[];
  if (started.length > 0)
    await infraDown(config, (line) => process.stdout.write(`[teardown] ${line}\n`), started);

  async function dropTopics(prefix: string) {
    const admin = createKafkaClient(config).admin();
    try {
      await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix)));
    } finally {
      await admin.close();
    }
  }
}

async function dropDatabases(adminUrl: string, prefix: string) {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      "select datname from pg_database where datname like $1 || '\\_%'",
      [prefix],
    );
    for (const { datname } of rows)
      await client.query(`drop database if exists ${escapeIdentifier(datname)} with (force)`);
  } finally {
    await client.end();
  }
}

async function dropKeys(url: string, prefix: string) {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
