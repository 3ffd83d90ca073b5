import path from 'node:path';
import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { isLoopback } from './process-control';

/** Where one local KRaft node keeps its files. */
export interface BrokerFiles {
  home: string;
  dataDir: string;
  properties: string;
  pidFile: string;
  logFile: string;
}

/** One node (broker and controller) of the local cluster `infra up` runs. */
export interface LocalNode {
  id: number;
  host: string;
  port: number;
  controllerPort: number;
  files: BrokerFiles;
}

/** The most nodes a local cluster may have: enough for replication factor 3 with room to spare. */
export const MAX_LOCAL_BROKERS = 5;

function filesIn(home: string): BrokerFiles {
  return {
    home,
    dataDir: path.join(home, 'data'),
    properties: path.join(home, 'server.properties'),
    pidFile: path.join(home, 'broker.pid'),
    logFile: path.join(home, 'broker.log'),
  };
}

/** The single local broker's files (`<state>/kafka`), as every earlier version kept them. */
export function brokerFiles(stateDir: string): BrokerFiles {
  return filesIn(path.join(stateDir, 'kafka'));
}

/** Where the nodes of a local cluster keep their files: a cluster's storage is its own. */
export function clusterHome(stateDir: string): string {
  return path.join(stateDir, 'kafka-cluster');
}

function nodeFiles(stateDir: string, id: number): BrokerFiles {
  return filesIn(path.join(clusterHome(stateDir), `node-${id}`));
}

/** The files of every node `infra up` may have started from this state folder. */
export function allNodeFiles(stateDir: string): BrokerFiles[] {
  return [
    brokerFiles(stateDir),
    ...Array.from({ length: MAX_LOCAL_BROKERS }, (_, i) => nodeFiles(stateDir, i + 1)),
  ];
}

/**
 * The local nodes KAFKA_BROKERS asks for, or undefined when some address is not on this
 * machine (an external cluster). One address is the laptop's single broker; several (all
 * loopback, e.g. 127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096) are a cluster of that many
 * nodes, node N's controller on KAFKA_CONTROLLER_PORT + 2(N-1).
 */
export function localNodes(config: Config): LocalNode[] | undefined {
  const addresses = config.kafka.brokers.map((b) => {
    const [host = '', port = ''] = b.split(':');
    return { host, port: Number(port) };
  });
  if (addresses.length > MAX_LOCAL_BROKERS || !addresses.every((a) => isLoopback(a.host)))
    return undefined;
  const single = addresses.length === 1;
  return addresses.map((a, i) => ({
    id: i + 1,
    host: a.host,
    port: a.port,
    controllerPort: config.kafka.controllerPort + 2 * i,
    files: single ? brokerFiles(config.stateDir) : nodeFiles(config.stateDir, i + 1),
  }));
}

/**
 * `--brokers N` on one local address: the cluster's addresses, every second port from it
 * (9092 → 9092,9094,9096), so each node's controller fits in between.
 */
export function clusterAddresses(brokers: string[], count: number): string[] {
  if (count === brokers.length) return brokers;
  if (count > MAX_LOCAL_BROKERS)
    throw new OperatorError(`--brokers: at most ${MAX_LOCAL_BROKERS} local brokers`);
  const [first, ...others] = brokers;
  const [host = '', port = ''] = (first ?? '').split(':');
  if (others.length > 0 || !isLoopback(host))
    throw new OperatorError(
      `--brokers ${count} starts a local cluster from one loopback address in KAFKA_BROKERS (it lists ${brokers.join(',')})`,
    );
  return Array.from({ length: count }, (_, i) => `${host}:${Number(port) + 2 * i}`);
}

/** Replication the cluster's own topics and orderstream's get: 3 copies once there are 3 nodes. */
export function replicationFor(brokers: number): { factor: number; minInSync: number } {
  const factor = Math.min(3, Math.max(1, brokers));
  return { factor, minInSync: factor >= 3 ? 2 : 1 };
}

export function brokerProperties(config: Config, node: LocalNode, nodes: LocalNode[]): string {
  const { host, port, controllerPort } = node;
  const controller = `${host}:${controllerPort}`;
  const { factor, minInSync } = replicationFor(nodes.length);
  return [
    nodes.length === 1
      ? '# Written by `orderstream infra up`: one KRaft node, broker and controller.'
      : `# Written by \`orderstream infra up\`: node ${node.id} of ${nodes.length} KRaft nodes, each broker and controller.`,
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${nodes.map((n) => `${n.id}@${n.host}:${n.controllerPort}`).join(',')}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${controller}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${node.files.dataDir}`,
    `num.partitions=${config.topics.partitions}`,
    // Topics are created explicitly (infra up, tests): a typo must not create a new one.
    'auto.create.topics.enable=false',
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${minInSync}`,
    `offsets.topic.replication.factor=${factor}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${minInSync}`,
    'transaction.state.log.num.partitions=10',
    'group.initial.rebalance.delay.ms=0',
    // A replica that fell behind (its broker was killed) must not become leader: no lost writes.
    'unclean.leader.election.enable=false',
    // A small machine: few threads.
    'num.network.threads=2',
    'num.io.threads=4',
    'background.threads=4',
    'num.recovery.threads.per.data.dir=1',
    // An idle controller appends a no-op record to the metadata log every 500 ms by default:
    // most of an idle broker's CPU. Every 5 s still shows a live metadata log.
    'metadata.max.idle.interval.ms=5000',
    '',
  ].join('\n');
}
