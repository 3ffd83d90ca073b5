import { type KafkaClient, readToEnd } from '../lib/kafka';
import type { RegisteredSchema, SchemaRegistry } from './registry';

/**
 * The schemas topic (`<prefix>.schemas`, compacted, DESIGN §2): one record per schema version,
 * keyed by its fingerprint, so a consumer outside this repository decodes an event with the
 * topic alone: take the event's `schema-fingerprint` header, find the record with that key,
 * parse its `schema` with any Avro library. Compaction keeps the latest record per key.
 */

/** The JSON value of a schemas-topic record (its key is `fingerprint`). */
export interface SchemaRecord {
  /** sha256 of the schema's Avro Parsing Canonical Form, lower-case hex: the key and the header. */
  fingerprint: string;
  fingerprintAlgorithm: 'sha256-avro-canonical-form';
  kind: 'event' | 'command';
  /** The `event-type` / `command-type` header value, e.g. `OrderPlaced`. */
  type: string;
  version: number;
  /** The Avro schema as declared in domain/ or written in its `.avsc` file (docs and defaults
   *  included). */
  schema: unknown;
}

export function schemaRecord(schema: RegisteredSchema): SchemaRecord {
  return {
    fingerprint: schema.fingerprint,
    fingerprintAlgorithm: 'sha256-avro-canonical-form',
    kind: schema.kind,
    type: schema.typeName,
    version: schema.version,
    schema: schema.json,
  };
}

/**
 * Writes every schema of `registry` whose record the topic does not hold yet (or holds with
 * other content); returns how many it wrote. Safe to repeat, and to run from several command-api
 * instances at once: a record two of them write twice is the same, and compaction keeps one.
 */
export async function publishSchemas(
  kafka: KafkaClient,
  topic: string,
  registry: SchemaRegistry,
): Promise<number> {
  const present = new Map<string, string>();
  await readToEnd(kafka, [{ topic, partition: 0 }], ({ records }) => {
    for (const record of records) {
      if (record.key) present.set(record.key.toString(), record.value?.toString() ?? '');
    }
  });
  const missing = registry
    .schemas()
    .map((schema) => ({ key: schema.fingerprint, value: JSON.stringify(schemaRecord(schema)) }))
    .filter(({ key, value }) => present.get(key) !== value);
  if (missing.length === 0) return 0;
  const producer = kafka.producer();
  try {
    await producer.send(
      missing.map(({ key, value }) => ({
        topic,
        partition: 0,
        key,
        value: Buffer.from(value),
        headers: { 'content-type': 'application/json' },
      })),
    );
  } finally {
    await producer.close();
  }
  return missing.length;
}
