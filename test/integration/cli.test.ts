import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createKafkaClient } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { freePort, REPO_ROOT, runCli, runConfig, runId } from '../support/test-env';

/** Every line of `stderr` is one `error: …` line: no stack trace, no library dump. */
function errorLines(stderr: string): string[] {
  const lines = stderr.trimEnd().split('\n');
  for (const line of lines) expect(line).toMatch(/^error: /);
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines;
}

describe('orderstream with a dependency unreachable', () => {
  let unreachable: NodeJS.ProcessEnv;
  beforeAll(async () => {
    unreachable = {
      INFRA_START_LOCAL: 'false',
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      POSTGRES_URL: `postgres://postgres:pg-secret@127.0.0.1:${await freePort()}/postgres`,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
    };
  });

  it('status names each unreachable dependency and its variable, one line each, and exits 1', async () => {
    const result = await runCli(['status'], unreachable);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(
        `^error: Kafka broker not reachable at ${unreachable.KAFKA_BROKERS} \\(KAFKA_BROKERS: `,
      ),
      expect.stringMatching(/^error: PostgreSQL not reachable at postgres:\/\/.* \(POSTGRES_URL: /),
      expect.stringMatching(
        `^error: Redis not reachable at ${unreachable.REDIS_URL} \\(REDIS_URL: `,
      ),
    ]);
    expect(result.stderr).not.toContain('pg-secret');
  });

  it.each([[['consume', 'order.events', '--from-beginning']], [['dlq', 'list']]])(
    '%j names the unreachable broker and KAFKA_BROKERS in one line, and exits 1',
    async (args) => {
      const result = await runCli(args, unreachable);
      expect(result.code).toBe(1);
      expect(errorLines(result.stderr)).toEqual([
        expect.stringMatching(
          `^error: Kafka broker not reachable at ${unreachable.KAFKA_BROKERS} \\(KAFKA_BROKERS: .*\\): start it`,
        ),
      ]);
    },
  );

  it('status names a reachable server whose shard databases are missing, and the fix', async () => {
    const result = await runCli(['status'], {
      POSTGRES_DATABASE_PREFIX: `${process.env.POSTGRES_DATABASE_PREFIX}_none`,
    });
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(
        /^error: shard databases missing at .*_none_shard_0.*orderstream infra up/,
      ),
    ]);
  });
});

describe('orderstream token', () => {
  it('refuses a lifetime without a unit in one clear line, not a jose stack', async () => {
    const result = await runCli(['token', '--role', 'admin', '--sub', 'a', '--expires', '12']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^error: option '--expires <duration>' argument '12' is invalid\. expected a number and a unit/,
    );
    expect(result.stderr).not.toMatch(/TypeError|^\s+at /m);
  });

  it('signs with a lifetime it is given', async () => {
    const result = await runCli(['token', '--role', 'admin', '--sub', 'a', '--expires', '30m']);
    expect(result.code).toBe(0);
    const [, payload] = result.stdout.trim().split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as {
      iat: number;
      exp: number;
    };
    expect(claims.exp - claims.iat).toBe(30 * 60);
  });

  it('names a too-short JWT_SECRET without showing it', async () => {
    const result = await runCli(['token', '--role', 'admin', '--sub', 'a'], {
      JWT_SECRET: 'my-short-secret',
    });
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(/^error: Invalid configuration: JWT_SECRET .*at least 32 characters/),
    ]);
    expect(result.stderr).not.toContain('my-short-secret');
  });
});

describe('orderstream --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'),
    ) as { version: string };
    const result = await runCli(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('orderstream consume', () => {
  // A topic prefix of its own, with only the topic this test reads.
  const env = () => ({ TOPIC_PREFIX: `ostest-${runId()}-consume` });
  const topic = () => `${env().TOPIC_PREFIX}.projector.dlq`;
  const count = 3000;

  beforeAll(async () => {
    const kafka = createKafkaClient(runConfig());
    const admin = kafka.admin();
    await admin.createTopics([{ name: topic(), partitions: 1, config: {} }]);
    await admin.close();
    const producer = kafka.producer();
    await producer.send(
      Array.from({ length: count }, (_, i) => ({
        topic: topic(),
        key: `k${i}`,
        value: Buffer.from(`message ${i}`),
      })),
    );
    await producer.close();
  });
  afterAll(async () => {
    const admin = createKafkaClient(runConfig()).admin();
    await admin.deleteTopics([topic()]).catch(() => undefined);
    await admin.close();
  });

  it('says on stderr why nothing was printed, and how to see messages', async () => {
    const result = await runCli(['consume', 'projector.dlq'], env());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^no new messages in .*projector\.dlq: .*--from-beginning.*--follow/,
    );
  });

  it('names a topic that does not exist and the fix, in one line', async () => {
    const result = await runCli(['consume', 'order.events', '--from-beginning'], env());
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      expect.stringMatching(
        /^error: Kafka topics missing at .*order\.events.*orderstream infra up/,
      ),
    ]);
  });

  it('stops quietly when the reader of its output goes away (`| head`)', async () => {
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          'bash',
          [
            '-o',
            'pipefail',
            '-c',
            `node bin/orderstream.js consume projector.dlq --from-beginning | head -n 2`,
          ],
          { cwd: REPO_ROOT, env: { ...process.env, ...env() } },
          (err, stdout, stderr) =>
            resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
        );
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toHaveLength(2);
    expect(result.code).toBe(0);
  });
});

describe('sagas started without its retry topics', () => {
  it('names the missing retry topic and the fix in one line instead of crashing later', async () => {
    const env = { SAGA_RETRY_DELAYS_MS: '1000,10000,60000,7000', LOG_LEVEL: 'silent' };
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'sagas/main.ts'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    const missing = topicNames(runConfig(env).topics).sagaRetries[3];
    expect(result.code).toBe(1);
    expect(errorLines(result.stderr)).toEqual([
      `error: Kafka topics missing at ${runConfig().kafka.brokers.join(',')}: ${missing} (they follow TOPIC_PREFIX and SAGA_RETRY_DELAYS_MS): create them with \`orderstream infra up\` run with the same settings`,
    ]);
  });
});
