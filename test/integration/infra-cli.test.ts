import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createKafkaClient } from '../../lib/kafka';
import { freePort, runCli, runConfig, scratchDir } from '../support/test-env';

/**
 * `orderstream infra up | down | status` as a user runs them, against a broker of its own
 * (own ports, own state folder) so the shared test broker is never touched.
 */
describe('orderstream infra with its own local broker', () => {
  const stateDir = scratchDir('infra-cli');
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = {
      ORDERSTREAM_STATE_DIR: stateDir,
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      KAFKA_CONTROLLER_PORT: String(await freePort()),
      KAFKA_HEAP: '256m',
      POSTGRES_DATABASE_PREFIX: `${process.env.POSTGRES_DATABASE_PREFIX}_cli`,
    };
  });

  afterAll(async () => {
    await runCli(['infra', 'down'], env);
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  const brokerPid = () =>
    Number(fs.readFileSync(path.join(stateDir, 'kafka', 'broker.pid'), 'utf8'));

  it('up starts the broker, creates topics and shard databases; a second up is harmless', async () => {
    const first = await runCli(['infra', 'up'], env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/kafka: started broker \(pid \d+\)/);
    expect(first.stdout).toMatch(/kafka: created 13 topics/);
    expect(first.stdout).toMatch(/postgres: created shard databases .*_cli_shard_0/);
    // The last line says what this `up` did.
    expect(first.stdout.trimEnd().split('\n').pop()).toBe(
      'infra up: started kafka; created 13 topics; created 4 shard databases; migrated 4 shard databases',
    );
    const pid = brokerPid();

    const second = await runCli(['infra', 'up'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('infra up: everything was already running and set up\n');
    expect(brokerPid()).toBe(pid);

    const status = await runCli(['infra', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`^kafka +up .*started by orderstream \\(pid ${pid}\\).*topics 13/13`, 'm'),
    );
    expect(status.stdout).toMatch(/^postgres +up .*shards 4\/4 migrated/m);
    expect(status.stdout).toMatch(/^redis +up /m);
  });

  it('down stops the broker it started; up again keeps the data', async () => {
    const config = runConfig(env);
    const topic = `${config.topics.prefix}.product.events`;
    const producer = createKafkaClient(config).producer();
    await producer.send([{ topic, key: 'p-1', value: Buffer.from('kept across restarts') }]);
    await producer.close();

    const pid = brokerPid();
    const down = await runCli(['infra', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`kafka: stopped broker (pid ${pid})`);
    expect(() => process.kill(pid, 0)).toThrow();
    const status = await runCli(['infra', 'status'], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/^kafka +down /m);

    const up = await runCli(['infra', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/kafka: started broker/);
    expect(up.stdout).not.toMatch(/created .* topics/);

    const admin = createKafkaClient(config).admin();
    const offsets = await admin.offsets(topic);
    await admin.close();
    const total = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    expect(total).toBe(1);
  });
});

describe('orderstream infra errors', () => {
  it('says in one line per dependency which one is unreachable, where, and how to fix it', async () => {
    const [kafka, pg, redis] = [await freePort(), await freePort(), await freePort()];
    const result = await runCli(['infra', 'up'], {
      INFRA_START_LOCAL: 'false',
      KAFKA_BROKERS: `127.0.0.1:${kafka}`,
      POSTGRES_URL: `postgres://postgres:secret@127.0.0.1:${pg}/postgres`,
      REDIS_URL: `redis://127.0.0.1:${redis}`,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: Kafka broker not reachable at 127.0.0.1:${kafka} \\(KAFKA_BROKERS\\): start one`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^error: PostgreSQL not reachable at postgres://postgres:\\*\\*\\*@127.0.0.1:${pg}/postgres \\(POSTGRES_URL: .*\\): start`,
        ),
      ),
      expect.stringMatching(
        new RegExp(
          `^error: Redis not reachable at redis://127.0.0.1:${redis} \\(REDIS_URL: .*\\): start`,
        ),
      ),
    ]);
    expect(result.stderr).not.toContain('secret');
  });

  it('names a port taken by another program instead of starting a server there or saying it started one', async () => {
    // Programs that accept connections but are not Redis or PostgreSQL.
    const strangers = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<net.Server>((resolve) => {
            const server = net.createServer(() => undefined);
            server.listen(0, '127.0.0.1', () => resolve(server));
          }),
      ),
    );
    const [redisPort, pgPort] = strangers.map((s) => (s.address() as net.AddressInfo).port);
    const stateDir = scratchDir('port-taken');
    try {
      const result = await runCli(['infra', 'up'], {
        INFRA_START_LOCAL: 'true',
        ORDERSTREAM_STATE_DIR: stateDir,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        POSTGRES_URL: `postgres://postgres:pg-secret@127.0.0.1:${pgPort}/postgres`,
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^error: PostgreSQL not answering at postgres://postgres:\\*\\*\\*@127.0.0.1:${pgPort}/postgres \\(POSTGRES_URL: .*\\), and port ${pgPort} is taken by another program`,
          ),
        ),
        expect.stringMatching(
          new RegExp(
            `^error: Redis not answering at redis://127.0.0.1:${redisPort} \\(REDIS_URL: .*\\), and port ${redisPort} is taken by another program`,
          ),
        ),
      ]);
      expect(result.stdout).not.toMatch(/started/);
      expect(result.stderr).not.toContain('pg-secret');
      expect(fs.existsSync(path.join(stateDir, 'redis', 'redis.pid'))).toBe(false);
      expect(fs.existsSync(path.join(stateDir, 'postgres', 'PG_VERSION'))).toBe(false);
    } finally {
      for (const s of strangers) s.close();
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('status says which topics have another partition count than TOPIC_PARTITIONS, and exits 1', async () => {
    const configured = runConfig().topics.partitions;
    const result = await runCli(['infra', 'status'], {
      TOPIC_PARTITIONS: String(configured + 1),
    });
    expect(result.code).toBe(1);
    const kafka = result.stdout.split('\n').find((l) => l.startsWith('kafka')) ?? '';
    expect(kafka).toMatch(
      new RegExp(
        `topics 13/13 .*; 12 with other partition counts than configured: .*product\\.events has ${configured}, wants ${configured + 1}.*\\(TOPIC_PARTITIONS=${configured + 1}\\)`,
      ),
    );
  });

  it('names the variable when the configuration is bad, without a stack trace', async () => {
    const result = await runCli(['infra', 'status'], { TOPIC_PARTITIONS: 'many' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: Invalid configuration: TOPIC_PARTITIONS="many": expected a whole number\n',
    );
  });
});
