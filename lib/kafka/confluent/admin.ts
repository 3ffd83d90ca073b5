import {
  IsolationLevel,
  KafkaConsumer,
  type KafkaJS,
  type LibrdKafkaError,
  Producer as RdProducer,
} from '@confluentinc/kafka-javascript';
import type {
  GroupDescription,
  KafkaAdmin,
  PartitionOffsets,
  TopicDescription,
  TopicPartitionOffset,
  TopicSpec,
} from '../port';
import { type KafkaSettings, sleep } from '../settings';
import { perTopicCreationError } from '../topic-creation';
import { baseConfig, classifyConfluentError } from './client';

const TIMEOUT_MS = 10_000;

/** How long an admin call is sent again while it fails with a retriable error. */
const RETRY_FOR_MS = 30_000;

/** Runs `call` again while it fails with a retriable error (e.g. a new topic's leader settling). */
async function retrying<T>(call: () => Promise<T>, attempts = 30): Promise<T> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      const unknownTopic = /unknown topic|does not host|leader not available/i.test(
        err instanceof Error ? err.message : '',
      );
      const kind = classifyConfluentError(err);
      // A group rebalancing (stale-member) takes its offsets once it settles.
      const more = attempt < attempts && Date.now() < deadline;
      if ((!unknownTopic && kind !== 'retriable' && kind !== 'stale-member') || !more) throw err;
      await sleep(100 * Math.min(attempt, 10));
    }
  }
}

/** `commitCb` exists on the low-level consumer but its type declarations leave it out. */
interface CommitsWithCallback {
  commitCb(
    offsets: { topic: string; partition: number; offset: number }[],
    cb: (err: LibrdKafkaError | null) => void,
  ): void;
}

const STATES = ['Unknown', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];

/** The library's admin client, plus a metadata connection for the cluster's brokers. */
export class ConfluentAdmin implements KafkaAdmin {
  private readonly admin: KafkaJS.Admin;
  private connected: Promise<void> | undefined;
  private metadataClient: Promise<RdProducer> | undefined;

  constructor(
    kafka: KafkaJS.Kafka,
    private readonly settings: KafkaSettings,
  ) {
    this.admin = kafka.admin();
  }

  private async ready(): Promise<KafkaJS.Admin> {
    this.connected ??= this.admin.connect();
    await this.connected;
    return this.admin;
  }

  /** Not retried: callers probe with it whether a cluster answers at all. */
  async brokers(): Promise<number[]> {
    const client = await this.metadataConnection();
    const metadata = await new Promise<{ brokers: { id: number }[] }>((resolve, reject) =>
      client.getMetadata({ timeout: this.settings.requestTimeoutMs ?? TIMEOUT_MS }, (err, data) =>
        err ? reject(err) : resolve(data),
      ),
    );
    return metadata.brokers.map((b) => b.id);
  }

  private async metadataConnection(): Promise<RdProducer> {
    this.metadataClient ??= new Promise((resolve, reject) => {
      const client = new RdProducer(baseConfig(this.settings));
      client.connect({ timeout: this.settings.requestTimeoutMs ?? TIMEOUT_MS }, (err) =>
        err ? reject(err) : resolve(client),
      );
    });
    try {
      return await this.metadataClient;
    } catch (err) {
      // The next call connects again rather than repeating this failure.
      this.metadataClient = undefined;
      throw err;
    }
  }

  async listTopics(): Promise<string[]> {
    const admin = await this.ready();
    return retrying(() => admin.listTopics({ timeout: TIMEOUT_MS }));
  }

  async createTopics(topics: TopicSpec[]): Promise<string[]> {
    const admin = await this.ready();
    const missingNow = async (): Promise<TopicSpec[]> => {
      const existing = new Set(await admin.listTopics({ timeout: TIMEOUT_MS }));
      return topics.filter((t) => !existing.has(t.name));
    };
    const missing = await retrying(missingNow);
    if (missing.length === 0) return [];
    // Sent again after a transient failure, it asks only for the topics still missing.
    await retrying(async () => {
      const still = await missingNow();
      if (still.length === 0) return;
      await admin
        .createTopics({
          timeout: TIMEOUT_MS,
          topics: still.map((t) => ({
            topic: t.name,
            numPartitions: t.partitions,
            replicationFactor: t.replicationFactor ?? -1,
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
    const topics = await retrying(() =>
      admin.fetchTopicMetadata({ topics: names, timeout: TIMEOUT_MS }),
    );
    return topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.length,
      replicas: t.partitions[0]?.replicas.length ?? 0,
    }));
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length > 0)
      await (await this.ready()).deleteTopics({ topics: names, timeout: TIMEOUT_MS });
  }

  async offsets(topic: string): Promise<PartitionOffsets[]> {
    const admin = await this.ready();
    const rows = await retrying(async () => {
      const found = await admin.fetchTopicOffsets(topic, {
        timeout: TIMEOUT_MS,
        isolationLevel: IsolationLevel.READ_COMMITTED,
      });
      // The library drops a partition's own error (its leader did not answer) and reports a
      // negative offset instead: ask again rather than take it for an end of the log.
      const failed = found.find((r) => Number(r.high) < 0 || Number(r.low) < 0);
      if (failed) {
        throw Object.assign(
          new Error(`no offsets for ${topic}/${failed.partition}: its leader did not answer`),
          { retriable: true },
        );
      }
      return found;
    });
    return rows
      .map((r) => ({ partition: r.partition, low: BigInt(r.low), high: BigInt(r.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async groupOffsets(groupId: string, topics: string[]): Promise<TopicPartitionOffset[]> {
    const admin = await this.ready();
    const rows = await retrying(() => admin.fetchOffsets({ groupId, topics, timeout: TIMEOUT_MS }));
    return rows.flatMap(({ topic, partitions }) =>
      partitions
        .filter((p) => p.offset !== '-1' && p.offset !== '')
        .map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
    );
  }

  /**
   * The compatible admin client cannot alter a group's offsets: a consumer of the group that
   * never joins it (no subscription) commits them, which the broker takes while it is empty.
   */
  async setGroupOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const consumer = new KafkaConsumer({
      ...baseConfig(this.settings),
      'group.id': groupId,
      'enable.auto.commit': false,
    });
    await new Promise<void>((resolve, reject) =>
      consumer.connect({ timeout: TIMEOUT_MS }, (err) => (err ? reject(err) : resolve())),
    );
    try {
      const committing = consumer as unknown as CommitsWithCallback;
      await retrying(
        () =>
          new Promise<void>((resolve, reject) =>
            committing.commitCb(
              offsets.map((o) => ({
                topic: o.topic,
                partition: o.partition,
                offset: Number(o.offset),
              })),
              (err) => (err ? reject(err) : resolve()),
            ),
          ),
      );
    } finally {
      await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
    }
  }

  async listGroups(): Promise<string[]> {
    const { groups } = await (await this.ready()).listGroups({ timeout: TIMEOUT_MS });
    return groups.map((g) => g.groupId);
  }

  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    if (groupIds.length === 0) return [];
    const { groups } = await (await this.ready()).describeGroups(groupIds, { timeout: TIMEOUT_MS });
    return groups.map((g) => ({
      groupId: g.groupId,
      state: STATES[g.state] ?? 'Unknown',
      ...(g.coordinator && { coordinator: g.coordinator.id }),
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: m.assignment.topicPartitions.map(({ topic, partition }) => ({
          topic,
          partition,
        })),
      })),
    }));
  }

  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length > 0)
      await (await this.ready()).deleteGroups(groupIds, { timeout: TIMEOUT_MS });
  }

  async close(): Promise<void> {
    const client = this.metadataClient;
    this.metadataClient = undefined;
    if (client) {
      const c = await client.catch(() => undefined);
      if (c) await new Promise<void>((resolve) => c.disconnect(() => resolve()));
    }
    if (this.connected) await this.admin.disconnect();
  }
}
