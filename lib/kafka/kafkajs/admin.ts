import { type Admin, AssignerProtocol, type Kafka } from 'kafkajs';
import type {
  GroupDescription,
  KafkaAdmin,
  PartitionOffsets,
  TopicDescription,
  TopicPartitionOffset,
  TopicSpec,
} from '../port';
import { sleep } from '../settings';
import { perTopicCreationError } from '../topic-creation';
import { classifyKafkajsError } from './client';

/**
 * Runs `call` again while it fails with an error Kafka marks retriable (a partition's leader
 * or a topic's metadata still settling, e.g. just after the topic was created): kafkajs'
 * admin calls do not retry those themselves.
 */
async function retrying<T>(call: () => Promise<T>, attempts = 30): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      const kind = classifyKafkajsError(err);
      // A group rebalancing (stale-member) takes its offsets once it settles.
      if ((kind !== 'retriable' && kind !== 'stale-member') || attempt >= attempts) throw err;
      await sleep(100 * Math.min(attempt, 10));
    }
  }
}

export class KafkajsAdmin implements KafkaAdmin {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
  }

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect();
    await this.connected;
    return this.admin;
  }

  async brokers(): Promise<number[]> {
    const { brokers } = await (await this.ready()).describeCluster();
    return brokers.map((b) => b.nodeId);
  }

  async listTopics(): Promise<string[]> {
    return (await this.ready()).listTopics();
  }

  async createTopics(topics: TopicSpec[]): Promise<string[]> {
    const admin = await this.ready();
    const missingNow = async () => {
      const existing = new Set(await admin.listTopics());
      return topics.filter((t) => !existing.has(t.name));
    };
    const missing = await missingNow();
    if (missing.length === 0) return [];
    // Sent again after a transient refusal, it asks only for the topics still missing.
    await retrying(async () => {
      const still = await missingNow();
      if (still.length === 0) return;
      // kafkajs' own wait for leaders can fail with "unknown topic" while a new topic's
      // metadata spreads; the offsets lookup below retries that instead.
      await admin
        .createTopics({
          waitForLeaders: false,
          topics: still.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            ...(t.replicationFactor !== undefined && { replicationFactor: t.replicationFactor }),
            configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
          })),
        })
        .catch((err: unknown) => {
          throw perTopicCreationError(err) ?? err;
        });
    });
    for (const t of missing) await this.offsets(t.name);
    return missing.map((t) => t.name);
  }

  async describeTopics(names: string[]): Promise<TopicDescription[]> {
    if (names.length === 0) return [];
    const admin = await this.ready();
    const { topics } = await retrying(() => admin.fetchTopicMetadata({ topics: names }));
    return topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicas: t.partitions[0]?.replicas.length ?? 0,
    }));
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length > 0) await (await this.ready()).deleteTopics({ topics: names });
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.ready();
    // kafkajs lists offsets read_committed: `high` is the last stable offset.
    const rows = await retrying(() => admin.fetchTopicOffsets(topic));
    return rows
      .map((r) => ({ partition: r.partition, low: BigInt(r.low), high: BigInt(r.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async groupOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const admin = await this.ready();
    const rows = await retrying(() => admin.fetchOffsets({ groupId, topics }));
    return rows.flatMap(({ topic, partitions }) =>
      partitions
        .filter((p) => p.offset !== '-1')
        .map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
    );
  }

  async setGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    const admin = await this.ready();
    for (const topic of new Set(offsets.map((o) => o.topic))) {
      await admin.setOffsets({
        groupId,
        topic,
        partitions: offsets
          .filter((o) => o.topic === topic)
          .map((o) => ({ partition: o.partition, offset: String(o.offset) })),
      });
    }
  }

  async listGroups(): Promise<string[]> {
    const { groups } = await (await this.ready()).listGroups();
    return groups.map((g) => g.groupId);
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return [];
    const { groups } = await (await this.ready()).describeGroups(groupIds);
    return groups.map((g) => ({
      groupId: g.groupId,
      state: g.state,
      members: g.members.map((m) => {
        const decoded =
          m.memberAssignment.length > 0
            ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment)
            : null;
        return {
          memberId: m.memberId,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: Object.entries(decoded?.assignment ?? {}).flatMap(([topic, partitions]) =>
            partitions.map((partition) => ({ topic, partition })),
          ),
        };
      }),
    }));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length > 0) await (await this.ready()).deleteGroups(groupIds);
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect();
  }
}
