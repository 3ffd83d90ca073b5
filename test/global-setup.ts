import { randomBytes } from 'node:crypto';
import { infraUp } from '../infra/local-infra';
import { loadConfig } from '../lib/config';

/**
 * Brings the infrastructure up if needed and gives this run its own topic prefix, shard
 * databases and Redis key prefix, so runs never see each other's data.
 */
export default async function globalSetup(): Promise<void> {
  process.stdout.write('\n');
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  Object.assign(process.env, {
    ORDERSTREAM_TEST_RUN: id,
    TOPIC_PREFIX: `ostest-${id}`,
    TOPIC_PARTITIONS: process.env.TOPIC_PARTITIONS || '3',
    POSTGRES_DATABASE_PREFIX: `ostest_${id}`,
    REDIS_KEY_PREFIX: `ostest:${id}:`,
    LOG_LEVEL: process.env.LOG_LEVEL || 'silent',
  });
  const { started } = await infraUp(loadConfig(), (line) =>
    process.stdout.write(`[setup] ${line}\n`),
  );
  process.stdout.write('\n');
  process.env.ORDERSTREAM_TEST_STARTED = started.join(',');
}
