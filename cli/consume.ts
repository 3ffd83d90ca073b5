import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafka, logEndOffsets } from '../lib/kafka';
import { requireReachable, requireTopics } from '../lib/preflight';
import { topicCatalogue } from '../lib/topics';
import { decodeCommand, decodeEvent } from '../schemas/codec';

export interface ConsumeOptions {
  fromBeginning?: boolean;
  follow?: boolean;
}

/** A message as one JSON line: position, metadata and the decoded payload. */
export function describeMessage(
  topic: string,
  partition: number,
  message: KafkaMessage,
): Record<string, unknown> {
  const position = { topic, partition, offset: message.offset, timestamp: message.timestamp };
  if (topic.endsWith('.events')) {
    const { event, meta } = decodeEvent(message);
    return { ...position, ...meta, event };
  }
  if (topic.endsWith('.commands')) {
    const { command, meta } = decodeCommand(message);
    return { ...position, ...meta, command };
  }
  const headers = Object.fromEntries(
    Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
  );
  return { ...position, key: message.key?.toString(), headers, value: message.value?.toString() };
}

/** `orderstream consume <topic>`: decoded messages as JSON lines, for piping into analytics tools. */
export async function consume(name: string, options: ConsumeOptions): Promise<void> {
  const config = loadConfig();
  const known = topicCatalogue(config.topics).map((t) => t.name);
  const topic = known.includes(name) ? name : `${config.topics.prefix}.${name}`;
  if (!known.includes(topic)) {
    throw new OperatorError(`unknown topic ${name}: expected one of ${known.join(', ')}`);
  }
  await requireReachable(config, ['kafka']);
  await requireTopics(config, [topic]);
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await logEndOffsets(admin, topic);
  await admin.disconnect();
  // Without --follow, stop once every partition is read up to its end at start.
  const remaining = new Map(
    ends
      .filter((e) => BigInt(e.high) > BigInt(e.low))
      .map((e) => [e.partition, BigInt(e.high) - 1n]),
  );
  if (!options.follow && (!options.fromBeginning || remaining.size === 0)) {
    // Nothing will be printed: say why on stderr, so a pipe still gets only messages.
    process.stderr.write(
      options.fromBeginning
        ? `${topic} is empty; add --follow to wait for new messages\n`
        : `no new messages in ${topic}: consume starts at the end of the log and stops there; add --from-beginning to read what is there, or --follow to wait for new messages\n`,
    );
    return;
  }

  const consumer = kafka.consumer({
    groupId: `${config.topics.prefix}.cli.consume.${randomUUID()}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  const done = new Promise<void>((resolve) => {
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const last = remaining.get(payload.partition);
      if (last !== undefined && BigInt(payload.lastOffset) >= last)
        remaining.delete(payload.partition);
      if (!options.follow && remaining.size === 0) resolve();
    });
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await consumer.subscribe({ topic, fromBeginning: Boolean(options.fromBeginning) });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      let line: Record<string, unknown>;
      try {
        line = describeMessage(topic, partition, message);
      } catch (err) {
        line = {
          topic,
          partition,
          offset: message.offset,
          error: err instanceof Error ? err.message : String(err),
        };
      }
      process.stdout.write(`${JSON.stringify(line)}\n`);
    },
  });
  await done;
  await consumer.disconnect();
}
