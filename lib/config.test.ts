import { CONFIG_VARIABLES, ConfigError, loadConfig, shardUrlsFor } from './config';

describe('loadConfig', () => {
  it('has defaults that point at a local broker, Postgres and Redis', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.topics).toMatchObject({ prefix: 'orderstream', partitions: 6 });
    expect(config.postgres.shardUrls).toEqual([
      'postgres://postgres@127.0.0.1:5432/orderstream_shard_0',
      'postgres://postgres@127.0.0.1:5432/orderstream_shard_1',
      'postgres://postgres@127.0.0.1:5432/orderstream_shard_2',
      'postgres://postgres@127.0.0.1:5432/orderstream_shard_3',
    ]);
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.http).toMatchObject({ commandApiPort: 3001, queryApiPort: 3002 });
    expect(config.topics.sagaRetryDelaysMs).toEqual([1000, 10_000, 60_000]);
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      TOPIC_PARTITIONS: '12',
      POSTGRES_SHARDS: '2',
      POSTGRES_DATABASE_PREFIX: 'shop',
      POSTGRES_URL: 'postgresql://u@db:6000/x',
      SAGA_RETRY_DELAYS_MS: '5,50',
      INFRA_START_LOCAL: 'false',
      COMMAND_API_PORT: '0',
    });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.topics.partitions).toBe(12);
    expect(config.postgres.shardUrls).toEqual([
      'postgresql://u@db:6000/shop_shard_0',
      'postgresql://u@db:6000/shop_shard_1',
    ]);
    expect(config.topics.sagaRetryDelaysMs).toEqual([5, 50]);
    expect(config.startLocalInfra).toBe(false);
    expect(config.http.commandApiPort).toBe(0);
  });

  it('lets explicit shard URLs override the derived ones', () => {
    const config = loadConfig({ POSTGRES_SHARD_URLS: 'postgres://a/x,postgres://b/y' });
    expect(config.postgres.shardUrls).toEqual(['postgres://a/x', 'postgres://b/y']);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ TOPIC_PARTITIONS: '' }).topics.partitions).toBe(6);
  });

  it.each([
    ['TOPIC_PARTITIONS', 'six'],
    ['TOPIC_PARTITIONS', '0'],
    ['KAFKA_BROKERS', 'localhost'],
    ['POSTGRES_URL', 'mysql://x'],
    ['REDIS_URL', 'not a url'],
    ['TOPIC_PREFIX', 'has space'],
    ['LOG_LEVEL', 'loud'],
    ['QUERY_API_PORT', '70000'],
    ['INFRA_START_LOCAL', 'yes'],
  ])('fails fast naming %s when it is %p', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ TOPIC_PARTITIONS: 'x', POSTGRES_SHARDS: 'y' })).toThrow(
      /TOPIC_PARTITIONS.*POSTGRES_SHARDS/,
    );
  });

  it('never shows a secret in its error: JWT_SECRET is named only, URL passwords are masked', () => {
    const error = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    const shortSecret = error({ JWT_SECRET: 'hunter2-short' });
    expect(shortSecret).toMatch(/JWT_SECRET .*expected at least 32 characters/);
    expect(shortSecret).not.toContain('hunter2');
    const badUrl = error({ POSTGRES_URL: 'postgres://app:topsecret@db:notaport/x' });
    expect(badUrl).toContain('POSTGRES_URL="postgres://app:***@db:notaport/x"');
    expect(badUrl).not.toContain('topsecret');
    const badList = error({ POSTGRES_SHARD_URLS: 'postgres://a:pw1@h/x,mysql://b:pw2@h/y' });
    expect(badList).toMatch(/POSTGRES_SHARD_URLS/);
    expect(badList).not.toMatch(/pw1|pw2/);
  });

  it('exposes the list of variables it reads', () => {
    expect(CONFIG_VARIABLES).toContain('KAFKA_BROKERS');
    expect(CONFIG_VARIABLES).toContain('REDIS_KEY_PREFIX');
  });
});

describe('shardUrlsFor', () => {
  it('gives the first shards, and derives the databases of a grown ring past POSTGRES_SHARDS', () => {
    const { postgres } = loadConfig({ POSTGRES_SHARDS: '2', POSTGRES_DATABASE_PREFIX: 'shop' });
    expect(shardUrlsFor(postgres, 1)).toEqual(['postgres://postgres@127.0.0.1:5432/shop_shard_0']);
    expect(shardUrlsFor(postgres, 3)).toEqual([
      'postgres://postgres@127.0.0.1:5432/shop_shard_0',
      'postgres://postgres@127.0.0.1:5432/shop_shard_1',
      'postgres://postgres@127.0.0.1:5432/shop_shard_2',
    ]);
  });

  it('refuses more shards than POSTGRES_SHARD_URLS lists: they cannot be guessed', () => {
    const { postgres } = loadConfig({ POSTGRES_SHARD_URLS: 'postgres://a/x,postgres://b/y' });
    expect(shardUrlsFor(postgres, 2)).toEqual(['postgres://a/x', 'postgres://b/y']);
    expect(() => shardUrlsFor(postgres, 3)).toThrow(ConfigError);
    expect(() => shardUrlsFor(postgres, 3)).toThrow(
      /uses 3 shards but POSTGRES_SHARD_URLS lists 2/,
    );
  });
});
