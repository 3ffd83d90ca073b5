import { ShardPools } from '../../query-api/read-side/shard-pools';
import { runConfig, silentLogger } from '../support/test-env';

describe('the query API shard pools', () => {
  const config = runConfig();
  const pools = new ShardPools(config.postgres, 4, silentLogger());
  afterAll(() => pools.end());

  // pg closes a connection idle for 10 s; a burst of reads after a quiet spell then waited for
  // new backends one pool at a time (the bench's half-rate product reads went past 1 s).
  it('keep their connections through a quiet spell longer than pg’s idle timeout', async () => {
    const pool = pools.get(0);
    await Promise.all(Array.from({ length: 4 }, () => pool.query('select pg_sleep(0.05)')));
    expect(pool.totalCount).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(pool.totalCount).toBe(4);
    expect(pool.idleCount).toBe(4);
  }, 30_000);
});
