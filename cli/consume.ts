import { loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { type ConsumedRecord, createKafkaClient, type ReadRange } from '../lib/kafka';
import { requireReachable, requireTopics } from '../lib/preflight';
import { topicCatalogue } from '../lib/topics';
import { decodeCommand, decodeEvent } from '../schemas/codec';

export interface ConsumeOptions {
  fromBeginning?: boolean;
  follow?: boolean;
}

/** A message as one JSON line: position, metadata and the decoded payload. */
export function describeMessage(record: ConsumedRecord): Record<string, unknown> {
  const { topic, partition } = record;
  // Offsets and timestamps as decimal strings (an offset may exceed a JSON number's precision).
  const position = {
    topic,
    partition,
    offset: String(record.offset),
    timestamp: String(record.timestamp),
  };
  if (topic.endsWith('.events')) {
    const { event, meta } = decodeEvent(record);
    return { ...position, ...meta, event };
  }
  if (topic.endsWith('.commands')) {
    const { command, meta } = decodeCommand(record);
    return { ...position, ...meta, command };
  }
  const headers = Object.fromEntries(
    Object.entries(record.headers).map(([k, v]) => [k, String(v)]),
  );
  return { ...position, key: record.key?.toString(), headers, value: record.value?.toString() };
}

function lineOf(record: ConsumedRecord): string {
  let line: Record<string, unknown>;
  try {
    line = describeMessage(record);
  } catch (err) {
    line = {
      topic: record.topic,
      partition: record.partition,
      offset: String(record.offset),
      error: err instanceof Error ? err.message : String(err),
    };
  }
  return `${JSON.stringify(line)}\n`;
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
  const kafka = createKafkaClient(config);
  const admin = kafka.admin();
  const offsets = await admin.offsets(topic).finally(() => admin.close());
  // From the log's start or its end; without --follow, up to its end at start.
  const ranges: ReadRange[] = offsets.map(({ partition, low, high }) => ({
    topic,
    partition,
    from: options.fromBeginning ? low : high,
    ...(!options.follow && { until: high }),
  }));
  const empty = offsets.every((o) => o.high === o.low);
  if (!options.follow && (!options.fromBeginning || empty)) {
    // Nothing will be printed: say why on stderr, so a pipe still gets only messages.
    process.stderr.write(
      options.fromBeginning
        ? `${topic} is empty; add --follow to wait for new messages\n`
        : `no new messages in ${topic}: consume starts at the end of the log and stops there; add --from-beginning to read what is there, or --follow to wait for new messages\n`,
    );
    return;
  }

  const reader = kafka.reader();
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  try {
    await Promise.race([
      reader.read(ranges, ({ records }) => {
        process.stdout.write(records.map(lineOf).join(''));
      }),
      stopped,
    ]);
  } finally {
    await reader.close();
  }
}
