import { loadConfig } from '../lib/config';
import { localBrokerAddress, newClusterId, startupError } from './kafka-broker';
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

describe('why a local broker stopped while starting', () => {
  // What a broker whose port was taken logged (shortened): its shutdown goes on for hundreds of
  // lines, with more ERRORs, after the one that names the cause.
  const log = [
    '[2026-12-02 15:56:20,700] INFO [BrokerServer id=1] Waiting for the broker to be unfenced (kafka.server.BrokerServer)',
    '[2026-12-02 15:56:20,798] ERROR Unable to start acceptor for ListenerName(PLAINTEXT) (kafka.network.DataPlaneAcceptor)',
    'org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:39092: Address already in use.',
    '\tat kafka.network.Acceptor.openServerSocket(SocketServer.scala:736)',
    'Caused by: java.net.BindException: Address already in use',
    '[2026-12-02 15:56:20,801] ERROR [BrokerServer id=1] Received a fatal error while waiting for all of the SocketServer Acceptors to be started (kafka.server.BrokerServer)',
    ...Array.from(
      { length: 100 },
      (_, i) =>
        `[2026-12-02 15:56:21,${String(i).padStart(3, '0')}] INFO [QuorumController id=1] writeNoOpRecord: event failed (org.apache.kafka.controller.QuorumController)`,
    ),
  ].join('\n');

  it('names the first error of this start, with the exception that caused it', () => {
    expect(startupError(log)).toBe(
      'ERROR Unable to start acceptor for ListenerName(PLAINTEXT) (kafka.network.DataPlaneAcceptor): org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:39092: Address already in use.',
    );
  });

  it('falls back to the last line when nothing was logged as an error', () => {
    expect(startupError('[t] INFO starting\n[t] INFO Exiting Kafka.\n')).toBe(
      '[t] INFO Exiting Kafka.',
    );
  });
});
