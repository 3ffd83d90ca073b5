import { loadConfig } from '../lib/config';
import { localBrokerAddress, newClusterId } from './kafka-broker';
import type { LocalNode } from './kafka-cluster';
import { brokerProperties, clusterAddresses, localNodes, replicationFor } from './kafka-cluster';

const propertiesOf = (text: string) =>
  new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=', 2) as [string, string]),
  );

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
    const nodes = localNodes(config) ?? [];
    expect(nodes).toHaveLength(1);
    const lines = propertiesOf(brokerProperties(config, nodes[0] as LocalNode, nodes));
    expect(lines.get('process.roles')).toBe('broker,controller');
    expect(lines.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(lines.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(lines.get('log.dirs')).toBe('/tmp/os-state/kafka/data');
    expect(lines.get('transaction.state.log.replication.factor')).toBe('1');
    expect(lines.get('auto.create.topics.enable')).toBe('false');
  });

  it('writes a three-node KRaft quorum for three loopback addresses, replicating everything 3 ways', () => {
    const config = loadConfig({
      KAFKA_BROKERS: '127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096',
      KAFKA_CONTROLLER_PORT: '19093',
      ORDERSTREAM_STATE_DIR: '/tmp/os-state',
    });
    const nodes = localNodes(config) ?? [];
    expect(nodes.map((n) => [n.id, n.port, n.controllerPort])).toEqual([
      [1, 19092, 19093],
      [2, 19094, 19095],
      [3, 19096, 19097],
    ]);
    const second = propertiesOf(brokerProperties(config, nodes[1] as LocalNode, nodes));
    expect(second.get('node.id')).toBe('2');
    expect(second.get('controller.quorum.voters')).toBe(
      '1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097',
    );
    expect(second.get('listeners')).toBe(
      'PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095',
    );
    expect(second.get('log.dirs')).toBe('/tmp/os-state/kafka-cluster/node-2/data');
    expect(second.get('transaction.state.log.replication.factor')).toBe('3');
    expect(second.get('transaction.state.log.min.isr')).toBe('2');
    expect(second.get('offsets.topic.replication.factor')).toBe('3');
    expect(second.get('min.insync.replicas')).toBe('2');
    expect(second.get('unclean.leader.election.enable')).toBe('false');
    expect(localNodes(loadConfig({ KAFKA_BROKERS: '127.0.0.1:1,kafka:2' }))).toBeUndefined();
  });

  it('spreads `--brokers 3` over every second port of the one local address', () => {
    expect(clusterAddresses(['127.0.0.1:9092'], 3)).toEqual([
      '127.0.0.1:9092',
      '127.0.0.1:9094',
      '127.0.0.1:9096',
    ]);
    expect(() => clusterAddresses(['kafka:9092'], 3)).toThrow(/loopback/);
    expect(replicationFor(1)).toEqual({ factor: 1, minInSync: 1 });
    expect(replicationFor(3)).toEqual({ factor: 3, minInSync: 2 });
  });

  it('makes cluster ids the storage tool accepts: 22 URL-safe characters, never a leading "-"', () => {
    for (let i = 0; i < 2000; i += 1)
      expect(newClusterId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });
});
