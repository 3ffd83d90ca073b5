import { performance } from 'node:perf_hooks';
import { aggregateKinds } from '../../../command-api/aggregates';
import { CommandOwner } from '../../../command-api/processor/command-owner';
import { ensureTopics } from '../../../infra/kafka-topics';
import type { Config } from '../../../lib/config';
import { createKafkaClient, type KafkaClient, type OutgoingRecord } from '../../../lib/kafka';
import { createLogger } from '../../../lib/logger';
import { topicNames } from '../../../lib/topics';
import { productHistory } from './product-history';

export interface FailoverResult {
  /** Events in the partition when a new owner replays it whole. */
  events: number;
  /** Events appended after the snapshot (at most SNAPSHOT_EVERY_EVENTS in a running system). */
  eventsAfterSnapshot: number;
  snapshotEvery: number;
  /** A new owner's rebuild replaying the whole partition. */
  fullReplayMs: number;
  /** A new owner's rebuild from the latest snapshot and the events after it. */
  fromSnapshotMs: number;
  /** Aggregates the whole replay rebuilt. */
  aggregates: number;
}

/**
 * Failover time of a command owner (issue 14): a partition of `events` product events, taken
 * over by a new owner that replays it whole, then by one that starts from a snapshot written
 * as the running owner writes it (in its next batch, once SNAPSHOT_EVERY_EVENTS have passed)
 * followed by `snapshotEvery / 2` more events — the average tail a real takeover finds.
 * Runs on its own one-partition topics; the group rebalance before a takeover is the same
 * either way and is not counted.
 */
export async function measureFailover(
  base: Config,
  prefix: string,
  events: number,
  snapshotEvery: number,
  say: (line: string) => void,
): Promise<FailoverResult> {
  const config: Config = { ...base, topics: { ...base.topics, prefix, partitions: 1 } };
  await ensureTopics(config);
  const kafka = createKafkaClient(config);
  const names = topicNames(config.topics);
  const tail = Math.floor(snapshotEvery / 2);
  const history = productHistory(events + tail);
  const producer = kafka.producer();
  try {
    say(`failover: writing ${events.toLocaleString('en')} product events to one partition…`);
    await append(producer, names.productEvents, history, 0, events);

    const full = await takeOver(kafka, config, snapshotEvery);
    // The owner as it runs: its next batch carries the snapshot, written like its events.
    const snapshot = await full.owner.decide([]);
    if (snapshot.records.length === 0) throw new Error('the owner wrote no snapshot');
    await producer.send(snapshot.records);
    await append(producer, names.productEvents, history, events, events + tail);

    const fromSnapshot = await takeOver(kafka, config, snapshotEvery);
    return {
      events,
      eventsAfterSnapshot: tail,
      snapshotEvery,
      fullReplayMs: full.ms,
      fromSnapshotMs: fromSnapshot.ms,
      aggregates: full.aggregates,
    };
  } finally {
    await producer.close();
  }
}

async function append(
  producer: ReturnType<KafkaClient['producer']>,
  topic: string,
  history: Omit<OutgoingRecord, 'topic'>[],
  from: number,
  to: number,
): Promise<void> {
  const batch = 2000;
  for (let i = from; i < to; i += batch)
    await producer.send(
      history.slice(i, Math.min(i + batch, to)).map((r) => ({ ...r, topic, partition: 0 })),
    );
}

/** A new owner of partition 0 rebuilds its state, as after an assignment. */
async function takeOver(kafka: KafkaClient, config: Config, snapshotEvery: number) {
  const kind = aggregateKinds(config).find((k) => k.name === 'product');
  if (!kind) throw new Error('no product aggregate');
  const owner = new CommandOwner({
    kind,
    partition: 0,
    partitions: 1,
    kafka,
    logger: createLogger('bench-failover', 'warn'),
    maxRememberedCommands: config.commands.idempotencyWindow,
    snapshotEveryEvents: snapshotEvery,
  });
  const started = performance.now();
  // The first takeover finds no snapshot yet and replays the whole partition.
  await owner.rebuild();
  return { owner, ms: performance.now() - started, aggregates: owner.aggregateCount };
}
