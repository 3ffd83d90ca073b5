import type { KafkaAdmin, KafkaClient, ReadRange } from '../../lib/kafka';

/** Log end offsets, by `topic#partition`. */
export type EndOffsets = Map<string, bigint>;

const splitKey = (key: string) => {
  const at = key.lastIndexOf('#');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
};

export async function endOffsets(admin: KafkaAdmin, topics: string[]): Promise<EndOffsets> {
  const ends: EndOffsets = new Map();
  for (const topic of topics)
    for (const { partition, high } of await admin.offsets(topic))
      ends.set(`${topic}#${partition}`, high);
  return ends;
}

/** Every topic of the stack: `<prefix>.…`. */
export async function stackTopics(admin: KafkaAdmin, prefix: string): Promise<string[]> {
  return (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`)).sort();
}

/** How far each topic's log end moved between two snapshots (markers included). */
export function growthByTopic(before: EndOffsets, after: EndOffsets): Map<string, bigint> {
  const growth = new Map<string, bigint>();
  for (const [key, end] of after) {
    const { topic } = splitKey(key);
    const moved = end - (before.get(key) ?? 0n);
    growth.set(topic, (growth.get(topic) ?? 0n) + moved);
  }
  return growth;
}

/** The ranges between two snapshots that hold something. */
export function rangesBetween(before: EndOffsets, after: EndOffsets): ReadRange[] {
  return [...after].flatMap(([key, until]) => {
    const from = before.get(key) ?? 0n;
    return until > from ? [{ ...splitKey(key), from, until }] : [];
  });
}

/**
 * Committed records (what a read_committed reader gets) per topic between two snapshots. Pass
 * the same client whatever adapter the stack runs: the count should not depend on it.
 */
export async function committedRecords(
  kafka: KafkaClient,
  before: EndOffsets,
  after: EndOffsets,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const ranges = rangesBetween(before, after);
  if (ranges.length === 0) return counts;
  const reader = kafka.reader();
  try {
    await reader.read(ranges, (batch) => {
      counts.set(batch.topic, (counts.get(batch.topic) ?? 0) + batch.records.length);
    });
  } finally {
    await reader.close();
  }
  return counts;
}
