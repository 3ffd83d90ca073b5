import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
import type { KafkaClient, OutgoingRecord } from '../../lib/kafka';
import { readToEnd } from '../../lib/kafka';
import type { Logger } from '../../lib/logger';
import type { AggregateEntry } from './partition-state';
import type { CommandReply } from './reply';

/**
 * Snapshots of a partition owner's state (issue 14): the aggregates, unique-key holders and
 * remembered outcomes as folded from the partition's events and replies up to `eventsEnd` and
 * `repliesEnd`. A new owner starts from the latest one and replays only what came after.
 *
 * Kept in `<prefix>.snapshots`, co-partitioned with the commands and compacted: a snapshot is
 * gzipped JSON cut into chunks (one Kafka record each, keyed `<kind>:<chunk>`, so compaction
 * keeps the newest record of each chunk), written in the owner's transaction. A snapshot is
 * used only when all its chunks are there and it was written for the same state format: the
 * kind's `stateVersion` and the fingerprint of its event schemas. Anything else — an older
 * schema, a torn or unreadable snapshot — is ignored and the partition is replayed whole.
 */
export interface PartitionSnapshot {
  /** Offsets after the last event and reply folded in. */
  eventsEnd: bigint;
  repliesEnd: bigint;
  /** Each state in its JSON form (the kind's `stateJson`). */
  aggregates: [string, AggregateEntry<unknown>][];
  holders: [string, string[]][];
  /** Oldest first, as the owner remembers them. */
  outcomes: CommandReply[];
}

/** What a snapshot must have been written for to be trusted. */
export interface SnapshotFormat {
  kind: string;
  /** Bumped with any change of the kind's state shape or evolve function. */
  stateVersion: number;
  /** The kind's event schemas (their fingerprints): an event schema change voids snapshots. */
  schemaFingerprints: readonly string[];
}

const FORMAT = 1;
/** Well under Kafka's default 1 MB record limit. */
const CHUNK_BYTES = 256 * 1024;

interface SnapshotBody {
  eventsEnd: string;
  repliesEnd: string;
  aggregates: [string, AggregateEntry<unknown>][];
  holders: [string, string[]][];
  outcomes: CommandReply[];
}

export function formatTag(format: SnapshotFormat): string {
  const schemas = [...format.schemaFingerprints].sort().join(',');
  return createHash('sha256')
    .update(`${FORMAT}|${format.kind}|${format.stateVersion}|${schemas}`)
    .digest('hex');
}

/** Items turned into JSON between two turns of the event loop. */
const JSON_SLICE = 1000;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The snapshot as gzipped JSON (the document JSON.stringify makes of a SnapshotBody), written
 * a slice of items at a time into a gzip stream, which compresses on libuv's thread pool.
 */
async function packedSnapshot(snapshot: PartitionSnapshot): Promise<Buffer> {
  const gz = createGzip();
  const out: Buffer[] = [];
  gz.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = once(gz, 'end');
  const write = async (text: string) => {
    if (!gz.write(text)) await once(gz, 'drain');
  };
  const writeArray = async (name: string, items: readonly unknown[], last = false) => {
    await write(`${JSON.stringify(name)}:[`);
    for (let i = 0; i < items.length; i += JSON_SLICE) {
      const slice = items.slice(i, i + JSON_SLICE).map((item) => JSON.stringify(item));
      await write((i > 0 ? ',' : '') + slice.join(','));
      await nextTurn();
    }
    await write(last ? ']}' : '],');
  };
  await write(
    `{"eventsEnd":${JSON.stringify(String(snapshot.eventsEnd))},` +
      `"repliesEnd":${JSON.stringify(String(snapshot.repliesEnd))},`,
  );
  await writeArray('aggregates', snapshot.aggregates);
  await writeArray('holders', snapshot.holders);
  await writeArray('outcomes', snapshot.outcomes, true);
  gz.end();
  await ended;
  return Buffer.concat(out);
}

/**
 * The records of one snapshot of `partition`'s state. With a full idempotency window a
 * partition's state is tens of megabytes of JSON: written and compressed in one go, it stopped
 * every owner and request of the process for one to two seconds.
 */
export async function snapshotRecords(
  topic: string,
  partition: number,
  format: SnapshotFormat,
  snapshot: PartitionSnapshot,
): Promise<OutgoingRecord[]> {
  const packed = await packedSnapshot(snapshot);
  const id = randomUUID();
  const chunks = Math.max(1, Math.ceil(packed.length / CHUNK_BYTES));
  const tag = formatTag(format);
  return Array.from({ length: chunks }, (_, i) => ({
    topic,
    partition,
    key: `${format.kind}:${i}`,
    value: packed.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
    headers: {
      'snapshot-id': id,
      'snapshot-chunk': String(i),
      'snapshot-chunks': String(chunks),
      'snapshot-format': tag,
    },
  }));
}

interface Chunk {
  id: string;
  index: number;
  count: number;
  format: string;
  value: Buffer;
}

/**
 * The latest whole snapshot of `partition` for `format.kind`, or undefined (none yet, torn, or
 * of another format: then the caller replays from the start).
 */
export async function readLatestSnapshot(
  kafka: KafkaClient,
  topic: string,
  partition: number,
  format: SnapshotFormat,
  logger: Logger,
): Promise<PartitionSnapshot | undefined> {
  const chunks: Chunk[] = [];
  const prefix = `${format.kind}:`;
  await readToEnd(kafka, [{ topic, partition }], ({ records }) => {
    for (const record of records) {
      if (!record.key?.toString().startsWith(prefix) || !record.value) continue;
      const h = (name: string) => record.headers[name]?.toString() ?? '';
      chunks.push({
        id: h('snapshot-id'),
        index: Number(h('snapshot-chunk')),
        count: Number(h('snapshot-chunks')),
        format: h('snapshot-format'),
        value: record.value,
      });
    }
  });
  const last = chunks.at(-1);
  if (!last) return undefined;
  if (last.format !== formatTag(format)) {
    logger.info(
      { aggregate: format.kind, partition },
      'snapshot of another state format ignored: replaying the partition whole',
    );
    return undefined;
  }
  // The newest chunk of each index that belongs to the newest snapshot.
  const parts = new Map<number, Buffer>();
  for (const chunk of chunks) if (chunk.id === last.id) parts.set(chunk.index, chunk.value);
  const ordered = Array.from({ length: last.count }, (_, i) => parts.get(i));
  if (ordered.some((p) => p === undefined)) {
    logger.warn({ aggregate: format.kind, partition }, 'torn snapshot ignored');
    return undefined;
  }
  try {
    const body = JSON.parse(
      gunzipSync(Buffer.concat(ordered as Buffer[])).toString('utf8'),
    ) as SnapshotBody;
    return {
      ...body,
      eventsEnd: BigInt(body.eventsEnd),
      repliesEnd: BigInt(body.repliesEnd),
    };
  } catch (err) {
    logger.warn({ err, aggregate: format.kind, partition }, 'unreadable snapshot ignored');
    return undefined;
  }
}
