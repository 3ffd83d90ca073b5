import { createRedis, pingRedis } from '../../lib/redis';
import { runConfig } from '../support/test-env';

describe('Redis', () => {
  const config = runConfig();

  it('answers PING at REDIS_URL', async () => {
    await expect(pingRedis(config.redis.url, 2000)).resolves.toBeUndefined();
  });

  it('stores and reads a value under this run’s key prefix', async () => {
    const redis = createRedis(config.redis.url);
    const key = `${config.redis.keyPrefix}probe`;
    try {
      await redis.set(key, 'hello', 'EX', 60);
      expect(await redis.get(key)).toBe('hello');
      expect(key.startsWith('ostest:')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('reports a Redis that does not answer', async () => {
    await expect(pingRedis('redis://127.0.0.1:1', 1000)).rejects.toThrow();
  });
});
