import type { Config } from './config';

/** A Kafka topic orderstream owns, with the settings `infra up` creates it with. */
export interface TopicSpec {
  name: string;
  partitions: number;
  config: Record<string, string>;
}

export interface TopicNames {
  productEvents: string;
  orderEvents: string;
  productCommands: string;
  orderCommands: string;
  /** Each command's outcome, in the command's partition (rebuilds idempotency on failover). */
  productReplies: string;
  orderReplies: string;
  /** One per configured delay, shortest first. */
  sagaRetries: string[];
  sagaDeadLetter: string;
  /** Events a projection could never apply, set aside with the error and their position. */
  projectorDeadLetter: string;
  schemas: string;
  /** Each commands partition's latest snapshot of its owner's state (compacted). */
  snapshots: string;
}

export function formatDelay(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function topicNames(topics: Config['topics']): TopicNames {
  const p = topics.prefix;
  return {
    productEvents: `${p}.product.events`,
    orderEvents: `${p}.order.events`,
    productCommands: `${p}.product.commands`,
    orderCommands: `${p}.order.commands`,
    productReplies: `${p}.product.replies`,
    orderReplies: `${p}.order.replies`,
    sagaRetries: topics.sagaRetryDelaysMs.map((ms) => `${p}.saga.retry.${formatDelay(ms)}`),
    sagaDeadLetter: `${p}.saga.dlq`,
    projectorDeadLetter: `${p}.projector.dlq`,
    schemas: `${p}.schemas`,
    snapshots: `${p}.snapshots`,
  };
}

/** Every topic of DESIGN §2. Event topics are the event store: kept forever, never compacted. */
export function topicCatalogue(topics: Config['topics']): TopicSpec[] {
  const names = topicNames(topics);
  const forever = { 'retention.ms': '-1', 'cleanup.policy': 'delete' };
  const finite = { 'retention.ms': String(topics.commandRetentionMs), 'cleanup.policy': 'delete' };
  const byAggregate = (name: string, config: Record<string, string>): TopicSpec => ({
    name,
    partitions: topics.partitions,
    config,
  });
  return [
    byAggregate(names.productEvents, forever),
    byAggregate(names.orderEvents, forever),
    // Commands are co-partitioned with the events of the same aggregate.
    byAggregate(names.productCommands, finite),
    byAggregate(names.orderCommands, finite),
    byAggregate(names.productReplies, finite),
    byAggregate(names.orderReplies, finite),
    ...names.sagaRetries.map((name) => byAggregate(name, finite)),
    byAggregate(names.sagaDeadLetter, forever),
    byAggregate(names.projectorDeadLetter, forever),
    { name: names.schemas, partitions: 1, config: { 'cleanup.policy': 'compact' } },
    // Co-partitioned with the commands: partition p holds the snapshots of partition p's owners.
    byAggregate(names.snapshots, { 'cleanup.policy': 'compact' }),
  ];
}

/** The consumer groups that commit their offsets to Kafka (projections keep theirs in the stores). */
export function consumerGroupNames(topics: Config['topics']) {
  const saga = `${topics.prefix}.saga`;
  return {
    commandProcessor: `${topics.prefix}.command-processor`,
    sagaFulfilment: `${saga}.fulfilment`,
    sagaReservations: `${saga}.reservations`,
    sagaRetries: `${saga}.retries`,
  };
}
