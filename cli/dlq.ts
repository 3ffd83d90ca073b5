import { randomUUID } from 'node:crypto';
import type { Config } from '../lib/config';
import { loadConfig } from '../lib/config';
import { OperatorError } from '../lib/errors';
import { createKafkaClient, readToEnd } from '../lib/kafka';
import { requireReachable, requireTopics } from '../lib/preflight';
import { topicNames } from '../lib/topics';
import {
  DLQ_HEADERS,
  decodePaymentRequest,
  encodePaymentRequest,
  headerString,
  type PaymentRequest,
  RETRY_HEADERS,
} from '../sagas/payment-request';

export interface DeadLetter {
  id: string;
  partition: number;
  offset: string;
  request: PaymentRequest;
  error: string;
  attempts: number;
  failedAt: string;
}

/**
 * The saga's dead letters still waiting for a decision: every entry of the dead-letter topic
 * minus those a later resolution record (redriven or discarded) settled.
 */
export async function openDeadLetters(config: Config): Promise<DeadLetter[]> {
  const topic = topicNames(config.topics).sagaDeadLetter;
  const entries = new Map<string, DeadLetter>();
  const resolved = new Set<string>();
  await readToEnd(
    createKafkaClient(config),
    Array.from({ length: config.topics.partitions }, (_, partition) => ({ topic, partition })),
    ({ records }) => {
      for (const record of records) {
        const id = headerString(record.headers, DLQ_HEADERS.id);
        if (!id) continue;
        if (headerString(record.headers, DLQ_HEADERS.resolution)) {
          resolved.add(id);
          continue;
        }
        entries.set(id, {
          id,
          partition: record.partition,
          offset: String(record.offset),
          request: decodePaymentRequest(record.value),
          error: headerString(record.headers, DLQ_HEADERS.error) ?? '',
          attempts: Number(headerString(record.headers, DLQ_HEADERS.attempts) ?? 0),
          failedAt: headerString(record.headers, DLQ_HEADERS.failedAt) ?? '',
        });
      }
    },
  );
  return [...entries.values()].filter((e) => !resolved.has(e.id));
}

/** Records `resolution` for `letters`, and with `redrive` puts their payment calls back into the saga (attempt 1). */
export async function resolveDeadLetters(
  config: Config,
  letters: DeadLetter[],
  resolution: 'redriven' | 'discarded',
): Promise<void> {
  if (letters.length === 0) return;
  const names = topicNames(config.topics);
  // The redriven calls and the resolutions are written together or not at all.
  const producer = createKafkaClient(config).transactionalProducer(
    `${config.topics.prefix}.cli.dlq.${randomUUID()}`,
  );
  await producer.open();
  try {
    await producer.transaction(async (tx) => {
      if (resolution === 'redriven') {
        await tx.send(
          letters.map((l) => ({
            topic: names.sagaRetries[0] as string,
            key: l.request.orderId,
            value: encodePaymentRequest({ ...l.request, attempt: 1 }),
            headers: {
              [RETRY_HEADERS.notBefore]: String(Date.now()),
              [RETRY_HEADERS.lastError]: `redriven from the dead-letter queue: ${l.error}`,
            },
          })),
        );
      }
      await tx.send(
        letters.map((l) => ({
          topic: names.sagaDeadLetter,
          key: l.request.orderId,
          value: null,
          headers: { [DLQ_HEADERS.id]: l.id, [DLQ_HEADERS.resolution]: resolution },
        })),
      );
    });
  } finally {
    await producer.close();
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The configuration, once the broker and the saga's topics are known to be there. */
async function dlqConfig(): Promise<Config> {
  const config = loadConfig();
  await requireReachable(config, ['kafka']);
  const names = topicNames(config.topics);
  await requireTopics(
    config,
    [names.sagaDeadLetter, ...names.sagaRetries],
    'TOPIC_PREFIX and SAGA_RETRY_DELAYS_MS',
  );
  return config;
}

/** `orderstream dlq list`: what, why, when and after how many attempts; ends with the depth. */
export async function listDeadLetters(): Promise<void> {
  const letters = await openDeadLetters(await dlqConfig());
  for (const l of letters) {
    say(
      `${l.id}  ${l.request.kind} order ${l.request.orderId}  failed ${l.failedAt} after ${l.attempts} attempts: ${l.error}`,
    );
  }
  say(`dead letters: ${letters.length}`);
}

/** `orderstream dlq redrive <id|--all>`: back into the saga, attempts starting over. */
export async function redriveDeadLetters(id: string | undefined, all?: boolean): Promise<void> {
  const config = await dlqConfig();
  const letters = await pick(config, id, all);
  await resolveDeadLetters(config, letters, 'redriven');
  say(`redriven: ${letters.length}`);
}

/** `orderstream dlq discard <id>`: give up on a dead letter for good. */
export async function discardDeadLetter(id: string): Promise<void> {
  const config = await dlqConfig();
  const letters = await pick(config, id, false);
  await resolveDeadLetters(config, letters, 'discarded');
  say(`discarded: ${letters.length}`);
}

async function pick(
  config: Config,
  id: string | undefined,
  all: boolean | undefined,
): Promise<DeadLetter[]> {
  if (!id && !all)
    throw new OperatorError('name a dead letter id (see `orderstream dlq list`) or pass --all');
  const open = await openDeadLetters(config);
  if (all) return open;
  const found = open.filter((l) => l.id === id);
  if (found.length === 0)
    throw new OperatorError(`no open dead letter ${id}: see \`orderstream dlq list\``);
  return found;
}
