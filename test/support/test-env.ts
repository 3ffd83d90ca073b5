import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type Config, loadConfig } from '../../lib/config';
import { createLogger, type Logger } from '../../lib/logger';
import { REPO_ROOT } from '../../lib/repo-root';

export { REPO_ROOT };

/** The per-run names global-setup put in the environment; every test keeps its data under them. */
export function runConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

export function runId(): string {
  const id = process.env.ORDERSTREAM_TEST_RUN;
  if (!id)
    throw new Error('ORDERSTREAM_TEST_RUN is not set: integration tests need test/global-setup.ts');
  return id;
}

/**
 * Silent, unless TEST_LOG_DIR names a folder: then the in-process services log (level info) to
 * `<TEST_LOG_DIR>/in-process.log`, to see what a failing test's services did.
 */
export const silentLogger = (): Logger => {
  const dir = process.env.TEST_LOG_DIR;
  if (!dir) return createLogger('test', 'silent');
  return pino(
    { name: 'test', level: 'info' },
    pino.destination({ dest: path.join(dir, 'in-process.log'), mkdir: true, append: true }),
  );
};

/** A silent logger that keeps the messages of its warnings (in `warnings`). */
export function warningsLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = Object.assign(Object.create(silentLogger()) as Logger, {
    warn: (_fields: unknown, message: string) => warnings.push(message),
  });
  return { logger, warnings };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A scratch directory the `postgres` OS user can also enter (private clusters run as it). */
export function scratchDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `orderstream-${name}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the `orderstream` command as a user would, with the run's environment plus `env`. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 180_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, 'bin', 'orderstream.js'), ...args],
      {
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        cwd: REPO_ROOT,
        maxBuffer: 512 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!accept(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}
