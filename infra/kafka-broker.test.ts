import { loadConfig } from '../lib/config';
import { brokerFiles, brokerProperties, localBrokerAddress, newClusterId } from './kafka-broker';

describe('local Kafka broker settings', () => {
  it('runs a local broker only for one loopback address', () => {
    expect(localBrokerAddress(loadConfig({}))).toEqual({ host: '127.0.0.1', port: 9092 });
    expect(localBrokerAddress(loadConfig({ KAFKA_BROKERS: 'localhost:19092' }))).toEqual({
      host: 'localhost',
      port: 19092,
    });
    expect(localBrokerAddress(loadConfig({ KAFKA_BROKERS: 'kafka:9092' }))).toBeUndefined();
    expect(
      localBrokerAddress(loadConfig({ KAFKA_BROKERS: '127.0.0.1:1,127.0.0.1:2' })),
    ).toBeUndefined();
  });

  it('writes a single KRaft node on the configured ports, with its data in the state folder', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_CONTROLLER_PORT: '19093',
      ORDERSTREAM_STATE_DIR: '/tmp/os-state',
    });
    const properties = brokerProperties(config, brokerFiles(config.stateDir));
    const lines = new Map(
      properties
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => l.split('=', 2) as [string, string]),
    );
    expect(lines.get('process.roles')).toBe('broker,controller');
    expect(lines.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(lines.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(lines.get('log.dirs')).toBe('/tmp/os-state/kafka/data');
    expect(lines.get('transaction.state.log.replication.factor')).toBe('1');
    expect(lines.get('auto.create.topics.enable')).toBe('false');
  });

  it('makes cluster ids the storage tool accepts: 22 URL-safe characters, never a leading "-"', () => {
    for (let i = 0; i < 2000; i += 1)
      expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
