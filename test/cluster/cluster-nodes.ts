import fs from 'node:fs';
import { runningBrokerPids } from '../../infra/kafka-broker';
import { localNodes } from '../../infra/kafka-cluster';
import type { Config } from '../../lib/config';
import { createKafkaClient } from '../../lib/kafka';

/** The local node coordinating `groupId` (the first node where the client cannot tell), if running. */
export async function groupCoordinator(
  config: Config,
  groupId: string,
): Promise<{ id: number; pid: number } | undefined> {
  const admin = createKafkaClient(config).admin();
  try {
    const [group] = await admin.describeGroups([groupId]);
    const node = localNodes(config)?.find((n) => n.id === (group?.coordinator ?? 1));
    const pid = node && Number(fs.readFileSync(node.files.pidFile, 'utf8').trim());
    return node && pid && runningBrokerPids(config.stateDir).includes(pid)
      ? { id: node.id, pid }
      : undefined;
  } finally {
    await admin.close();
  }
}
