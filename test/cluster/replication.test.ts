import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { runningBrokerPids } from '../../infra/kafka-broker';
import { localNodes } from '../../infra/kafka-cluster';
import { isAlive } from '../../infra/process-control';
import { createKafkaClient } from '../../lib/kafka';
import { topicCatalogue } from '../../lib/topics';
import { runCli, runConfig } from '../support/test-env';

/** A topic's settings as the broker itself reports them (Kafka's own config tool). */
async function topicSettings(topic: string): Promise<string> {
  const config = runConfig();
  const { stdout } = await promisify(execFile)('java', [
    '-cp',
    path.join(config.kafka.jarsDir, '*'),
    'kafka.admin.ConfigCommand',
    '--bootstrap-server',
    config.kafka.brokers.join(','),
    '--entity-type',
    'topics',
    '--entity-name',
    topic,
    '--describe',
  ]);
  return stdout;
}

/** Issue 14, item 1: `infra up` runs a three-broker KRaft cluster whose topics keep 3 copies. */
describe('a local three-broker cluster', () => {
  it('runs three brokers, and every topic has 3 replicas and min.insync.replicas=2', async () => {
    const config = runConfig();
    expect(runningBrokerPids(config.stateDir)).toHaveLength(3);
    const status = await runCli(['infra', 'status']);
    expect(status.stdout).toMatch(/^kafka +up .*3 brokers · topics 13\/13/m);

    const catalogue = topicCatalogue(config.topics);
    const admin = createKafkaClient(config).admin();
    try {
      // A node answers before it is unfenced: topics created before all three were listed got
      // 2 copies (`infra up` now waits for the whole cluster).
      const described = await admin.describeTopics(catalogue.map((t) => t.name));
      expect(described.map((t) => [t.name, t.replicas])).toEqual(catalogue.map((t) => [t.name, 3]));
    } finally {
      await admin.close();
    }
    const [events] = catalogue;
    expect(await topicSettings(events?.name ?? '')).toMatch(/min\.insync\.replicas=2/);
  });

  it('`infra up` starts again only the broker that was killed', async () => {
    const config = runConfig();
    const [, second] = localNodes(config) ?? [];
    const before = runningBrokerPids(config.stateDir);
    const victim = before[1] ?? 0;
    expect(second).toBeDefined();
    process.kill(victim, 'SIGKILL');
    while (isAlive(victim)) await new Promise((r) => setTimeout(r, 100));

    const up = await runCli(['infra', 'up']);
    // The whole result on failure: what `infra up` said it was doing when it failed.
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect(up.stdout).toMatch(/kafka: started 1 of 3 brokers/);
    const after = runningBrokerPids(config.stateDir);
    expect(after).toHaveLength(3);
    expect(after.filter((pid) => before.includes(pid))).toHaveLength(2);
  });
});
