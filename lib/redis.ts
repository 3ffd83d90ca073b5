import { Redis } from 'ioredis';
import { withTimeout } from './timeout';

export { Redis };

export interface RedisOptions {
  /**
   * Sends the commands issued in one event-loop turn in one write (ioredis auto-pipelining):
   * for a server answering many concurrent reads, one syscall instead of one per command.
   */
  autoPipelining?: boolean;
}

export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 3,
    enableAutoPipelining: options.autoPipelining ?? false,
  });
}

/** Resolves when Redis at `url` answers PING within `timeoutMs`. */
export async function pingRedis(url: string, timeoutMs: number): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // ioredis waits this long for a socket to close after disconnect(); a refused one never does.
    disconnectTimeout: 50,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (e.g. ECONNREFUSED) says more than ioredis' "Connection is closed".
  let socketError: Error | undefined;
  redis.on('error', (err: Error) => {
    socketError = err;
  });
  try {
    await withTimeout(
      (async () => {
        await redis.connect().catch((err: unknown) => {
          throw socketError ?? err;
        });
        const answer = await redis.ping();
        if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
      })(),
      timeoutMs,
      `no answer within ${timeoutMs} ms`,
    );
  } finally {
    redis.disconnect();
  }
}
