import type { Config } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafka, logEndOffsets, retrying } from '../lib/kafka';
import { topicCatalogue } from '../lib/topics';

/**
 * Creates every topic of the catalogue that is missing. An existing topic with another
 * partition count is an error: a key's partition (and so its single writer) would move.
 */
export async function ensureTopics(config: Config): Promise<string[]> {
  const admin = createKafka(config).admin();
  await admin.connect();
  try {
    const wanted = topicCatalogue(config.topics);
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      // kafkajs' own wait for leaders can fail with "unknown topic" while a new topic's metadata
      // spreads; the wait below retries that instead.
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
      // Wait until every partition of every new topic has a leader that answers.
      for (const t of missing) await logEndOffsets(admin, t.name, 60);
    }
    const { topics } = await retrying(() =>
      admin.fetchTopicMetadata({ topics: wanted.map((t) => t.name) }),
    );
    for (const spec of wanted) {
      const actual = topics.find((t) => t.name === spec.name)?.partitions.length;
      if (actual !== spec.partitions) {
        throw new OperatorError(
          `topic ${spec.name} has ${actual} partitions but ${spec.partitions} are configured (TOPIC_PARTITIONS): use another TOPIC_PREFIX, or rebuild the topics`,
        );
      }
    }
    return missing.map((t) => t.name);
  } finally {
    await admin.disconnect();
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
  const admin = createKafka(config, undefined, { retry: { retries: 1 } }).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topicCatalogue(config.topics);
    const present = wanted.filter((t) => existing.has(t.name));
    const { topics } =
      present.length > 0
        ? await retrying(() => admin.fetchTopicMetadata({ topics: present.map((t) => t.name) }))
        : { topics: [] };
    const mismatched = present.flatMap((spec) => {
      const partitions = topics.find((t) => t.name === spec.name)?.partitions.length ?? 0;
      return partitions === spec.partitions
        ? []
        : [{ name: spec.name, partitions, wanted: spec.partitions }];
    });
    return { present: present.length, wanted: wanted.length, mismatched };
  } finally {
    await admin.disconnect();
  }
}
