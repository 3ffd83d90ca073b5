import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient } from '../lib/kafka';
import { topicCatalogue } from '../lib/topics';

/**
 * Creates every topic of the catalogue that is missing. An existing topic with another
 * partition count is an error: a key's partition (and so its single writer) would move.
 */
export async function ensureTopics(config: Config): Promise<string[]> {
  const admin = createKafkaClient(config).admin();
  try {
    const wanted = topicCatalogue(config.topics);
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
    const wanted = topicCatalogue(config.topics);
    const present = wanted.filter((t) => existing.has(t.name));
    const topics = await admin.describeTopics(present.map((t) => t.name));
    const mismatched = present.flatMap((spec) => {
      const partitions = topics.find((t) => t.name === spec.name)?.partitions ?? 0;
      return partitions === spec.partitions
        ? []
        : [{ name: spec.name, partitions, wanted: spec.partitions }];
    });
    return { present: present.length, wanted: wanted.length, mismatched };
  } finally {
    await admin.close();
  }
}
