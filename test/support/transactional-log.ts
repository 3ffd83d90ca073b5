import type { KafkaMessage } from 'kafkajs';
import { replayPartitions } from '../../command-api/processor/replay';
import type { Config } from '../../lib/config';
import { createKafka, logEndOffsets } from '../../lib/kafka';
import { partitionOf } from '../../lib/kafka/index';
import type { ProjectedEvent, ProjectionTarget } from '../../projectors/runtime/projection';
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
 * only writer (offsets are read from the log's end before and after each transaction).
 */
export async function appendTransactions(
  config: Config,
  topic: string,
  partition: number,
  transactions: LogTransaction[],
): Promise<AppendedTransaction[]> {
  const kafka = createKafka(config);
  const admin = kafka.admin();
  const producer = kafka.producer({
    transactionalId: `${topic}.test-writer.${partition}`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await Promise.all([admin.connect(), producer.connect()]);
  const end = async () =>
    BigInt((await logEndOffsets(admin, topic)).find((p) => p.partition === partition)?.high ?? 0);
  const appended: AppendedTransaction[] = [];
  try {
    for (const { events, outcome } of transactions) {
      const before = await end();
      const tx = await producer.transaction();
      await tx.send({
        topic,
        messages: events.map(({ event, aggregateId, version }) => {
          const { value, headers } = encodeEvent(event, {
            aggregateId,
            aggregateVersion: version,
            commandId: `${aggregateId}.${version}.${outcome}`,
            correlationId: aggregateId,
            causationId: aggregateId,
            occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString(),
            actor: 'test:writer',
          });
          return { key: aggregateId, value, headers, partition };
        }),
      });
      if (outcome === 'commit') await tx.commit();
      else await tx.abort();
      const after = await end();
      const records = Array.from(
        { length: Number(after - before - 1n) },
        (_, i) => before + BigInt(i),
      );
      appended.push({ records, marker: after - 1n });
    }
  } finally {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  }
  return appended;
}

/** The committed events of `topic`/`partition` as a projection sees them, in log order. */
export async function projectedEvents(
  config: Config,
  topic: string,
  partition: number,
): Promise<ProjectedEvent[]> {
  const events: ProjectedEvent[] = [];
  await replayPartitions(
    createKafka(config),
    `${config.topics.prefix}.test-projected`,
    [{ topic, partition }],
    (_ref, message: KafkaMessage) => {
      const { event, meta } = decodeEvent(message);
      const { type, ...data } = event;
      events.push({ topic, partition, offset: message.offset, type, data, meta });
    },
  );
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

/** The offsets of every record (transaction markers aside) in `topics`, per `topic#partition`. */
async function offsetsRead(
  config: Config,
  topics: string[],
  readUncommitted: boolean,
): Promise<Map<string, bigint[]>> {
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<string, bigint>(); // last offset to reach, per topic#partition
  try {
    for (const topic of topics) {
      for (const { partition, high, low } of await logEndOffsets(admin, topic)) {
        if (BigInt(high) > BigInt(low)) remaining.set(`${topic}#${partition}`, BigInt(high) - 1n);
      }
    }
  } finally {
    await admin.disconnect();
  }
  const read = new Map<string, bigint[]>();
  if (remaining.size === 0) return read;
  const consumer = kafka.consumer({
    groupId: `${config.topics.prefix}.test-offsets.${Date.now()}.${readUncommitted}`,
    readUncommitted,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      // Also fires for batches of nothing but markers and aborted records.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const key = `${payload.topic}#${payload.partition}`;
        const last = remaining.get(key);
        if (last !== undefined && BigInt(payload.lastOffset) >= last) {
          remaining.delete(key);
          if (remaining.size === 0) resolve();
        }
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      Promise.all(topics.map((topic) => consumer.subscribe({ topic, fromBeginning: true })))
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const key = `${batch.topic}#${batch.partition}`;
              const last = remaining.get(key) ?? -1n;
              const offsets = read.get(key) ?? [];
              for (const m of batch.messages)
                if (BigInt(m.offset) <= last) offsets.push(BigInt(m.offset));
              read.set(key, offsets);
            },
          }),
        )
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}

/**
 * How many records of aborted transactions `topics` hold: records a read_uncommitted reader
 * sees and a read_committed one does not, below a committed record of their partition (so
 * decided, not a transaction still open).
 */
export async function abortedRecordCount(config: Config, topics: string[]): Promise<number> {
  const all = await offsetsRead(config, topics, true);
  const committed = await offsetsRead(config, topics, false);
  let aborted = 0;
  for (const [key, offsets] of all) {
    const visible = new Set(committed.get(key) ?? []);
    const lastVisible = [...visible].reduce((a, b) => (b > a ? b : a), -1n);
    aborted += offsets.filter((o) => o < lastVisible && !visible.has(o)).length;
  }
  return aborted;
}
