#!/usr/bin/env node
// Sales per minute from orderstream's order events, decoded with the schemas topic alone: this
// package knows nothing of orderstream's code or .avsc files. Each event carries its writer
// schema's fingerprint in the `schema-fingerprint` header; `<prefix>.schemas` holds one record
// per schema, keyed by that fingerprint, whose JSON value has the Avro schema in `schema`.
//
//   KAFKA_BROKERS=127.0.0.1:9092 TOPIC_PREFIX=orderstream node index.js [--json] [--follow]
//
// Prints, per minute (UTC) in which orders were placed: the number of orders and their total
// per currency. Without --follow it stops at the end of the log.

const { randomUUID } = require('node:crypto');
const avro = require('avsc');
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',');
const prefix = process.env.TOPIC_PREFIX || 'orderstream';
const json = process.argv.includes('--json');
const follow = process.argv.includes('--follow');
const kafka = new Kafka({ clientId: 'sales-per-minute', brokers, logLevel: logLevel.NOTHING });

/**
 * Calls `onMessage` for every committed message of `topic` from its start, and `onEnd` once it
 * has reached the end of the log as it was when called; then resolves, or with `forever` goes on.
 */
async function readTopic(topic, onMessage, { forever = false, onEnd = () => {} } = {}) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map(
    (await admin.fetchTopicOffsets(topic))
      .filter((p) => BigInt(p.high) > BigInt(p.low))
      .map((p) => [p.partition, BigInt(p.high)]),
  );
  await admin.disconnect();
  // A throwaway group that never commits: every run reads from the beginning.
  const consumer = kafka.consumer({
    groupId: `sales-per-minute-${randomUUID()}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let reachedEnd;
  const done = new Promise((resolve) => {
    reachedEnd = resolve;
  });
  let ended = false;
  const check = () => {
    if (ends.size > 0 || ended) return;
    ended = true;
    onEnd();
    if (!forever) reachedEnd();
  };
  // Fires after every batch, also one of transaction markers only, which no message reaches.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    const end = ends.get(payload.partition);
    if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) ends.delete(payload.partition);
    check();
  });
  await consumer.run({ eachMessage: async ({ message }) => onMessage(message) });
  check();
  await done;
  await consumer.disconnect();
}

const header = (message, name) => message.headers?.[name]?.toString();

async function main() {
  // Every schema orderstream has written with, by fingerprint.
  const schemas = new Map();
  await readTopic(`${prefix}.schemas`, (message) => {
    const record = JSON.parse(message.value.toString());
    schemas.set(message.key.toString(), {
      type: record.type,
      avro: avro.Type.forSchema(record.schema),
    });
  });

  const minutes = new Map(); // 'YYYY-MM-DDTHH:MM' → { orders, totals: { currency: minor units } }
  const print = (minute) => {
    const { orders, totals } = minutes.get(minute);
    if (json) {
      console.log(JSON.stringify({ minute: `${minute}Z`, orders, totals }));
    } else {
      const money = Object.entries(totals).map(([c, minor]) => `${(minor / 100).toFixed(2)} ${c}`);
      console.log(`${minute}Z  ${String(orders).padStart(5)} orders  ${money.join(', ')}`);
    }
  };
  const onOrderEvent = (message, live) => {
    if (header(message, 'event-type') !== 'OrderPlaced') return;
    const schema = schemas.get(header(message, 'schema-fingerprint'));
    if (!schema)
      throw new Error(
        `no schema in ${prefix}.schemas for ${header(message, 'schema-fingerprint')}`,
      );
    const order = schema.avro.fromBuffer(message.value);
    const minute = new Date(header(message, 'occurred-at')).toISOString().slice(0, 16);
    const bucket = minutes.get(minute) ?? { orders: 0, totals: {} };
    bucket.orders += 1;
    bucket.totals[order.total.currency] =
      (bucket.totals[order.total.currency] ?? 0) + order.total.amount;
    minutes.set(minute, bucket);
    if (live) print(minute);
  };
  let live = false;
  await readTopic(`${prefix}.order.events`, (m) => onOrderEvent(m, live), {
    forever: follow,
    // What the log held, in order; then, following, each minute again as new orders change it.
    onEnd: () => {
      for (const minute of [...minutes.keys()].sort()) print(minute);
      live = true;
    },
  });
}

main().catch((err) => {
  console.error(`sales-per-minute: ${err.message}`);
  process.exit(1);
});
