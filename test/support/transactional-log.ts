import type { Config } from '../../lib/config';
import { createKafkaClient, partitionOf, readToEnd } from '../../lib/kafka';
import type { ProjectedEvent, ProjectionTarget } from '../../projectors/runtime/projection';
import { projectedEvent } from '../../read-models/projected-event';
import { decodeEvent, encodeEvent, type TypedMessage } from '../../schemas/codec';

/** One event to append, as a partition owner would: its aggregate and aggregate version. */
export interface LogEvent {
  event: TypedMessage & Record<string, unknown>;
  aggregateId: string;
  version: number;
}

export interface LogTransaction {
  events: LogEvent[];
  outcome: 'commit' | 'abort';
}

/** Where a transaction landed: its records' offsets and the offset of its commit/abort marker. */
export interface AppendedTransaction {
  records: bigint[];
  marker: bigint;
}

/** An aggregate id (`<prefix>-<n>`) whose events land in `partition`. */
export function idInPartition(prefix: string, partition: number, partitions: number): string {
  for (let n = 0; ; n += 1) {
    const id = `${prefix}-${n}`;
    if (partitionOf(id, partitions) === partition) return id;
  }
}

/**
 * Appends each transaction to `topic`/`partition` with one transactional producer, committing or
 * aborting it, and tells where its records and marker landed. The caller must be the partition's
 * only writer (a transaction's marker follows its last record). Returns once every marker is in
 * the log: the coordinator writes them after the commit or abort has returned.
 */
export async function appendTransactions(
  config: Config,
  topic: string,
  partition: number,
  transactions: LogTransaction[],
): Promise<AppendedTransaction[]> {
  const kafka = createKafkaClient(config);
  const admin = kafka.admin();
  const producer = kafka.transactionalProducer(`${topic}.test-writer.${partition}`);
  const end = async () =>
    (await admin.offsets(topic)).find((p) => p.partition === partition)?.high ?? 0n;
  const appended: AppendedTransaction[] = [];
  try {
    await producer.open();
    for (const { events, outcome } of transactions) {
      const records = events.map(({ event, aggregateId, version }) => {
        const { value, headers } = encodeEvent(event, {
          aggregateId,
          aggregateVersion: version,
          commandId: `${aggregateId}.${version}.${outcome}`,
          correlationId: aggregateId,
          causationId: aggregateId,
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(),
          actor: 'test:writer',
        });
        return { topic, partition, key: aggregateId, value, headers };
      });
      // A transaction whose work fails is aborted: its records stay in the log, invisible.
      let landed: bigint[] = [];
      await producer
        .transaction(async (tx) => {
          landed = (await tx.send(records)).map((p) => p.offset);
          if (outcome === 'abort') throw new AbortOnPurpose();
        })
        .catch((err: unknown) => {
          if (!(err instanceof AbortOnPurpose)) throw err;
        });
      appended.push({ records: landed, marker: (landed.at(-1) ?? -1n) + 1n });
    }
    const last = appended.at(-1)?.marker;
    for (let attempt = 0; last !== undefined && (await end()) <= last; attempt += 1) {
      if (attempt >= 100) throw new Error(`the last marker (${last}) never reached the log`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await Promise.all([producer.close(), admin.close()]);
  }
  return appended;
}

class AbortOnPurpose extends Error {}

/** The committed events of `topic`/`partition` as a projection sees them, in log order. */
export async function projectedEvents(
  config: Config,
  topic: string,
  partition: number,
): Promise<ProjectedEvent[]> {
  const events: ProjectedEvent[] = [];
  await readToEnd(createKafkaClient(config), [{ topic, partition }], ({ records }) => {
    for (const record of records) {
      const { event, meta } = decodeEvent(record);
      events.push(projectedEvent(event, { topic, partition, offset: String(record.offset), meta }));
    }
  });
  return events;
}

/**
 * Leaves `target` as a projection that stopped with its checkpoint of `topic`/`partition` at
 * `through`: every committed event up to it applied, nothing after.
 */
export async function applyThrough(
  config: Config,
  target: ProjectionTarget,
  topic: string,
  partition: number,
  through: bigint,
): Promise<void> {
  const events = (await projectedEvents(config, topic, partition)).filter(
    (e) => BigInt(e.offset) <= through,
  );
  await target.apply(topic, partition, events, through.toString());
}

/**
 * How many places in `topics` hold records of aborted transactions between committed records.
 * Every partition has one transactional writer (its owner), so between two committed records
 * that are not in the same transaction sits one commit marker; a wider gap holds aborted
 * records and their abort marker.
 */
export async function abortedSpanCount(config: Config, topics: string[]): Promise<number> {
  const kafka = createKafkaClient(config);
  const admin = kafka.admin();
  const partitions: { topic: string; partition: number }[] = [];
  try {
    for (const topic of topics)
      for (const { partition } of await admin.offsets(topic)) partitions.push({ topic, partition });
  } finally {
    await admin.close();
  }
  const last = new Map<string, bigint>();
  let spans = 0;
  await readToEnd(kafka, partitions, ({ topic, partition, records }) => {
    const key = `${topic}#${partition}`;
    for (const { offset } of records) {
      const before = last.get(key);
      if (before !== undefined && offset - before > 2n) spans += 1;
      last.set(key, offset);
    }
  });
  return spans;
}
