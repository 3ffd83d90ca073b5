import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient, type TopicSpec } from '../lib/kafka';
import { topicCatalogue } from '../lib/topics';
import { localNodes, replicationFor } from './kafka-cluster';

/**
 * The catalogue with its replication: three copies (two of them in sync to accept a write) once
 * the cluster has three brokers. A local cluster counts the nodes it is configured with, so a
 * node that has not joined yet never lowers the copies a topic is created with for good.
 */
function wantedTopics(config: Config, listedBrokers: number[]): TopicSpec[] {
  const brokers = Math.max(listedBrokers.length, localNodes(config)?.length ?? 0);
  const { factor, minInSync } = replicationFor(brokers);
  return topicCatalogue(config.topics).map((t) => ({
    ...t,
    replicationFactor: factor,
    config: { ...t.config, 'min.insync.replicas': String(minInSync) },
  }));
}

/**
 * Creates every topic of the catalogue that is missing. An existing topic with another
 * partition count is an error: a key's partition (and so its single writer) would move.
 */
export async function ensureTopics(config: Config): Promise<string[]> {
  const admin = createKafkaClient(config).admin();
  try {
    const wanted = wantedTopics(config, await admin.brokers());
    // Waits until every partition of every new topic has a leader that answers.
    const created = await admin.createTopics(wanted);
    const topics = await admin.describeTopics(wanted.map((t) => t.name));
    for (const spec of wanted) {
      const actual = topics.find((t) => t.name === spec.name)?.partitions;
      if (actual !== spec.partitions) {
        throw new OperatorError(
          `topic ${spec.name} has ${actual} partitions but ${spec.partitions} are configured (TOPIC_PARTITIONS): use another TOPIC_PREFIX, or rebuild the topics`,
        );
      }
    }
    return created;
  } finally {
    await admin.close();
  }
}

export interface TopicCount {
  /** Brokers in the cluster. */
  brokers: number;
  /** Catalogue topics that exist. */
  present: number;
  wanted: number;
  /** Existing catalogue topics whose partition count is not the configured one. */
  mismatched: { name: string; partitions: number; wanted: number }[];
}

/** How many of the catalogue's topics exist, and which have another partition count (for `infra status`). */
export async function countTopics(config: Config): Promise<TopicCount> {
  const admin = createKafkaClient(config).admin();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = wantedTopics(config, await admin.brokers());
    const present = wanted.filter((t) => existing.has(t.name));
    const topics = await admin.describeTopics(present.map((t) => t.name));
    const mismatched = present.flatMap((spec) => {
      const partitions = topics.find((t) => t.name === spec.name)?.partitions ?? 0;
      return partitions === spec.partitions
        ? []
        : [{ name: spec.name, partitions, wanted: spec.partitions }];
    });
    const brokers = (await admin.brokers()).length;
    return { brokers, present: present.length, wanted: wanted.length, mismatched };
  } finally {
    await admin.close();
  }
}
