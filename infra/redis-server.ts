import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { redactUrl } from '../lib/redact';
import { pingRedis } from '../lib/redis';
import type { ServerOutcome } from './postgres-server';
import {
  findExecutable,
  isLoopback,
  runningPid,
  sleep,
  spawnDaemon,
  stopProcess,
} from './process-control';

function files(stateDir: string) {
  const dir = path.join(stateDir, 'redis');
  return { dir, pidFile: path.join(dir, 'redis.pid'), logFile: path.join(dir, 'redis.log') };
}

export function runningPrivateRedisPid(stateDir: string): number | undefined {
  return runningPid(files(stateDir).pidFile, 'redis-server');
}

/** Redis answers at REDIS_URL, or a private redis-server is started there. */
export async function ensureRedisServer(
  config: Config,
  say: (line: string) => void,
): Promise<ServerOutcome> {
  const url = config.redis.url;
  const where = redactUrl(url);
  try {
    await pingRedis(url, 2000);
    return runningPrivateRedisPid(config.stateDir) ? 'running' : 'external';
  } catch {
    // not answering: maybe start a private one below
  }
  const { hostname, port } = new URL(url);
  const redisServer = findExecutable('redis-server');
  if (!config.startLocalInfra || !isLoopback(hostname) || !redisServer) {
    throw new OperatorError(
      `Redis not reachable at ${where} (REDIS_URL): start Redis there or point REDIS_URL at a running server${
        redisServer ? '' : ' (no redis-server found, so no private one could be started)'
      }`,
    );
  }
  const f = files(config.stateDir);
  fs.mkdirSync(f.dir, { recursive: true });
  const pid = spawnDaemon(
    redisServer,
    [
      '--port',
      port || '6379',
      '--bind',
      hostname,
      '--dir',
      f.dir,
      '--save',
      '',
      '--appendonly',
      'yes',
    ],
    { logFile: f.logFile, pidFile: f.pidFile },
  );
  for (let i = 0; i < 50; i++) {
    try {
      await pingRedis(url, 500);
      say(`redis: started a private redis-server (pid ${pid}) at ${where}`);
      return 'started';
    } catch {
      await sleep(100);
    }
  }
  throw new OperatorError(
    `private redis-server (pid ${pid}) does not answer at ${where}: see ${f.logFile}`,
  );
}

export async function stopPrivateRedis(stateDir: string): Promise<number | undefined> {
  const pid = runningPrivateRedisPid(stateDir);
  if (pid === undefined) return undefined;
  await stopProcess(pid);
  fs.rmSync(files(stateDir).pidFile, { force: true });
  return pid;
}
