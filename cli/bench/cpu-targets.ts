import fs from 'node:fs';
import { localBrokerAddress, runningBrokerPid } from '../../infra/kafka-broker';
import type { Config } from '../../lib/config';
import { type CpuTarget, pidsNamed, pidsWithCommandLine } from './process-cpu';

/**
 * The local Kafka broker's pid: the one `infra up` started (its pid file), else a `kafka.Kafka`
 * JVM on this machine whose properties file listens on KAFKA_BROKERS' loopback address.
 */
export function brokerPid(config: Config): number | undefined {
  const ours = runningBrokerPid(config.stateDir);
  if (ours) return ours;
  const address = localBrokerAddress(config);
  if (!address) return undefined;
  const listener = `PLAINTEXT://${address.host}:${address.port}`;
  return pidsWithCommandLine('kafka.Kafka').find((pid) => {
    try {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const properties = [...args].reverse().find((arg) => arg.endsWith('.properties'));
      return properties !== undefined && fs.readFileSync(properties, 'utf8').includes(listener);
    } catch {
      return false;
    }
  });
}

/**
 * Every part of the stack whose CPU the bench reports: the service processes (by pid), the
 * broker, the machine's PostgreSQL and Redis (all their processes: they also serve others, so
 * their figures include whatever else runs), and the bench itself (the load generator).
 */
export function stackCpuTargets(config: Config, services: Map<string, number>): CpuTarget[] {
  const broker = brokerPid(config);
  return [
    ...[...services].map(([name, pid]) => ({ name, pids: () => [pid] })),
    { name: 'kafka broker', pids: () => (broker ? [broker] : []) },
    { name: 'postgres', pids: () => pidsNamed('postgres') },
    { name: 'redis', pids: () => pidsNamed('redis-server') },
    { name: 'bench (load generator)', pids: () => [process.pid] },
  ];
}
