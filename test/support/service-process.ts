import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { withNativeThreads } from '../../lib/kafka/native-threads';
import { REPO_ROOT } from './test-env';

/** A service started as its own OS process (so a test can SIGKILL it), with its JSON log lines. */
export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  waitForLog: (
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ) => Promise<Record<string, unknown>>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

export function startServiceProcess(
  entry: string,
  port: number,
  env: NodeJS.ProcessEnv,
): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    // The health and metrics ports of processes that serve no API: any free one, unless given.
    // TEST_LOG_LEVEL=debug, with TEST_LOG_DIR, keeps more of what the processes did.
    env: withNativeThreads({
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      PROJECTORS_PORT: '0',
      SAGAS_PORT: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  // TEST_LOG_DIR keeps the process's log lines too (see silentLogger).
  const logDir = process.env.TEST_LOG_DIR;
  if (logDir) {
    fs.mkdirSync(logDir, { recursive: true });
    child.stdout?.pipe(
      fs.createWriteStream(path.join(logDir, `${path.basename(entry, '.ts')}-${child.pid}.log`)),
    );
  }
  const listeners = new Set<() => void>();
  readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
      for (const l of listeners) l();
    } catch {
      // not a log line
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    logs,
    waitForLog: (match, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no such log line within ${timeoutMs} ms`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
