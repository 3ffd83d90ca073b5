import { loadConfig } from '../../lib/config';
import { runNames, stackEnv } from './run-names';

describe('names of a bench run and its stack environment', () => {
  const names = runNames('m1abc2f3e');

  it('puts everything under the run id, Kafka names under one prefix', () => {
    expect(names).toEqual({
      id: 'm1abc2f3e',
      topicPrefix: 'bench-m1abc2f3e',
      rawPrefix: 'bench-m1abc2f3e-raw',
      kafkaPrefix: 'bench-m1abc2f3e',
      databasePrefix: 'bench_m1abc2f3e',
      redisKeyPrefix: 'bench:m1abc2f3e:',
    });
    expect(names.rawPrefix.startsWith(names.kafkaPrefix)).toBe(true);
  });

  it('gives the stack its own prefixes, ports and adapter, and drops pointers to other data', () => {
    const env = stackEnv(
      {
        PATH: '/bin',
        TOPIC_PREFIX: 'orderstream',
        POSTGRES_SHARD_URLS: 'postgres://elsewhere/db',
        PAYMENT_GATEWAY_URL: 'http://elsewhere',
        PAYMENT_LATENCY_MS: '',
      },
      names,
      {
        commandApi: 40001,
        queryApi: 40002,
        paymentGateway: 40003,
        projectors: 40004,
        sagas: 40005,
      },
      'kafkajs',
    );
    expect(env.PATH).toBe('/bin');
    expect(env.POSTGRES_SHARD_URLS).toBeUndefined();
    expect(env.PAYMENT_GATEWAY_URL).toBeUndefined();
    // The config module accepts it and derives the run's databases and gateway URL from it.
    const config = loadConfig(env);
    expect(config.topics.prefix).toBe('bench-m1abc2f3e');
    expect(config.postgres.shardUrls[0]).toMatch(/\/bench_m1abc2f3e_shard_0$/);
    expect(config.redis.keyPrefix).toBe('bench:m1abc2f3e:');
    expect(config.kafka.client).toBe('kafkajs');
    expect(config.http.commandApiPort).toBe(40001);
    expect(config.paymentGateway.url).toBe('http://127.0.0.1:40003');
    expect(config.paymentGateway.latencyMs).toBe(20);
    expect(config.logLevel).toBe('warn');
  });
});
