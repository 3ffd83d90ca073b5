import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { noAnswer } from '../lib/preflight';
import { redactUrl } from '../lib/redact';
import { pingRedis } from '../lib/redis';
import type { ServerOutcome } from './postgres-server';
import {
  findExecutable,
  isAlive,
  isLoopback,
  portTaken,
  runningPid,
  sleep,
  spawnDaemon,
  stopProcess,
  tailOf,
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
  const f = files(config.stateDir);
  // A refused connection fails at once; the wait only matters for a slow or busy server.
  const why = await noAnswer(pingRedis(url, 5000));
  if (why === undefined) return runningPrivateRedisPid(config.stateDir) ? 'running' : 'external';
  const { hostname, port } = new URL(url);
  const redisServer = findExecutable('redis-server');
  if (!config.startLocalInfra || !isLoopback(hostname) || !redisServer) {
    throw new OperatorError(
      `Redis not reachable at ${where} (REDIS_URL: ${why}): start Redis there or point REDIS_URL at a running server${
        redisServer ? '' : ' (no redis-server found, so no private one could be started)'
      }`,
    );
  }
  const portNumber = Number(port || 6379);
  if (await portTaken(hostname, portNumber)) {
    throw new OperatorError(
      `Redis not answering at ${where} (REDIS_URL: ${why}), and port ${portNumber} is taken by another program, so no private redis-server can start there: point REDIS_URL at a Redis that answers, or at a free port`,
    );
  }
  fs.mkdirSync(f.dir, { recursive: true });
  const pid = spawnDaemon(
    redisServer,
    [
      '--port',
      String(portNumber),
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
  // Started means: the process is alive and it answers at REDIS_URL (not another program there).
  for (let i = 0; i < 50 && isAlive(pid); i++) {
    if ((await noAnswer(pingRedis(url, 500))) === undefined && isAlive(pid)) {
      say(`redis: started a private redis-server (pid ${pid}) at ${where}`);
      return 'started';
    }
    await sleep(100);
  }
  const alive = isAlive(pid);
  if (alive) await stopProcess(pid);
  fs.rmSync(f.pidFile, { force: true });
  throw new OperatorError(
    `private redis-server (pid ${pid}) ${alive ? 'did not answer' : 'exited'} at ${where} (${tailOf(f.logFile, 1).trim() || 'no log'}): see ${f.logFile}`,
  );
}

export async function stopPrivateRedis(stateDir: string): Promise<number | undefined> {
  const pid = runningPrivateRedisPid(stateDir);
  if (pid === undefined) return undefined;
  await stopProcess(pid);
  fs.rmSync(files(stateDir).pidFile, { force: true });
  return pid;
}
