import type { SystemStatus } from '../../cli/status';
import { ensureShardDatabases } from '../../infra/postgres-server';
import type { Config } from '../../lib/config';
import { consumerGroupNames, topicNames } from '../../lib/topics';
import {
  call,
  envOf,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { freePort, runCli, runConfig } from '../support/test-env';

describe('orderstream status', () => {
  let config: Config;
  let commands: RunningCommandApi;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const base = await isolatedConfig('status', {}, { stores: true });
    const followers = runConfig({
      POSTGRES_DATABASE_PREFIX: `${process.env.POSTGRES_DATABASE_PREFIX}_status_follower`,
    });
    await ensureShardDatabases(followers);
    config = {
      ...base,
      postgres: { ...base.postgres, followerShardUrls: followers.postgres.shardUrls },
    };
    // No sagas process answers on this port: the breaker is reported unknown.
    env = { ...envOf(config), SAGAS_PORT: String(await freePort()) };
    commands = await startCommandApi(config);
    const created = await call(commands.url, 'POST', '/products', {
      token: await tokenFor(config, 'admin', 'status'),
      body: {
        sku: 'ST-1',
        name: 'Cup',
        category: 'home',
        price: { amount: 500, currency: 'EUR' },
        initialStock: 1,
      },
    });
    expect(created.status).toBe(201);
  }, 120_000);
  afterAll(() => commands?.stop());

  it('--json lists every consumer group with its lag per partition, the dead letters and the breaker', async () => {
    const result = await runCli(['status', '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as SystemStatus;
    const groups = consumerGroupNames(config.topics);
    const names = topicNames(config.topics);
    const projection = (name: string) => `${config.topics.prefix}.projection.${name}.g1`;
    expect(report.groups.map((g) => [g.name, g.group])).toEqual([
      ['commands', groups.commandProcessor],
      ['saga', groups.sagaFulfilment],
      ['saga-reservations', groups.sagaReservations],
      ['saga-retries', groups.sagaRetries],
      ['read-model', projection('read-model')],
      ['views', projection('views')],
      ['analytics', projection('analytics')],
      ['read-model-follower', projection('read-model-follower')],
    ]);
    const partitions = config.topics.partitions;
    const topicsOf = (name: string) => [
      ...new Set(report.groups.find((g) => g.name === name)?.partitions.map((p) => p.topic)),
    ];
    expect(topicsOf('commands')).toEqual([names.productCommands, names.orderCommands]);
    expect(topicsOf('saga-retries')).toEqual(names.sagaRetries);
    expect(topicsOf('views')).toEqual([names.productEvents, names.orderEvents]);
    for (const g of report.groups) {
      expect(g.partitions.length % partitions).toBe(0);
      expect(g.lag).toBe(String(g.partitions.reduce((sum, p) => sum + BigInt(p.lag), 0n)));
    }
    // The command was taken by the running owner (nothing left); no projector ran: the event
    // and its transaction's commit marker are behind.
    expect(report.groups.find((g) => g.name === 'commands')?.lag).toBe('0');
    for (const name of ['read-model', 'views', 'read-model-follower'])
      expect(report.groups.find((g) => g.name === name)?.lag).toBe('2');
    expect(report.deadLetters).toEqual({ saga: 0, projector: 0 });
    expect(report.breaker).toBe('unknown');
  }, 90_000);

  it('prints the same as a table', async () => {
    const result = await runCli(['status'], env);
    expect(result.code).toBe(0);
    for (const line of [
      /^commands \(group .*\.command-processor\): lag 0$/m,
      /^saga-retries \(group .*\.saga\.retries\): lag \d+$/m,
      /^views \(generation 1, group .*\): lag 2$/m,
      /^saga dead letters: 0$/m,
      /^projector dead letters: 0$/m,
      /^payment gateway breaker: unknown$/m,
    ])
      expect(result.stdout).toMatch(line);
  }, 90_000);
});
