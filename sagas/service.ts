import { PaymentGatewayClient } from '../infra/payment-gateway/client';
import type { Config } from '../lib/config';
import type { DependencyCheck } from '../lib/http/health';
import { createKafkaClient, type TopicPartition } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { kafkaGroupLag, reportLag } from '../lib/metrics/consumer-lag';
import { reportBreaker, reportDeadLetters } from '../lib/metrics/gauges';
import { OwnedPartitions } from '../lib/owned-partitions/owned-partitions';
import { consumerGroupNames, topicNames } from '../lib/topics';
import { CircuitBreaker } from './circuit-breaker';
import { type DeadlineSweep, FulfilmentOwner } from './fulfilment-owner';
import { ReservationTranslator } from './reservation-translator';
import { RetryOwner } from './retry-owner';

export interface Sagas {
  /** Readiness: every consumer runs (none stopped for good). */
  checks: DependencyCheck[];
  stop: () => Promise<void>;
}

/**
 * The sagas process (DESIGN §6), three groups of owned partitions on the one runtime: the
 * fulfilment saga on the order events, the reservation translator on the product events and
 * replies, and the retry owners on every retry topic. `onCrash` hears of a consumer that
 * stopped for good (the process should then end, so its supervisor starts it again).
 */
export async function startSagas(
  config: Config,
  logger: Logger,
  onCrash: (error: Error) => void = () => undefined,
): Promise<Sagas> {
  const kafka = createKafkaClient(config, logger);
  const topics = topicNames(config.topics);
  const retry = { delaysMs: config.topics.sagaRetryDelaysMs, topics };
  const gateway = new PaymentGatewayClient(config.paymentGateway.url, {
    timeoutMs: config.saga.gatewayTimeoutMs,
  });
  // One breaker for the whole process: every path to the gateway sees its failures.
  const breaker = new CircuitBreaker(config.saga.breakerThreshold, config.saga.breakerCooldownMs);
  const payments = { gateway, breaker, logger };
  const prefix = `${config.topics.prefix}.saga`;
  const groups = consumerGroupNames(config.topics);
  const runtime = {
    kafka,
    logger,
    sessionTimeoutMs: config.commands.sessionTimeoutMs,
    maxBatch: config.commands.maxPerTransaction,
  };

  const fulfilment = new OwnedPartitions<DeadlineSweep>({
    ...runtime,
    name: 'saga',
    stallMs: config.kafka.consumerStallMs,
    groupId: groups.sagaFulfilment,
    topics: [topics.orderEvents],
    transactionalId: (p) => `${prefix}.fulfilment.${p.partition}`,
    work: (p) =>
      new FulfilmentOwner({
        kafka,
        logger,
        groupId: groups.sagaFulfilment,
        ordersTopic: topics.orderEvents,
        partition: p.partition,
        retry,
        payments,
        deadlineMs: config.saga.deadlineMs,
      }),
  });
  const sourceOf = (p: TopicPartition) => (p.topic === topics.productEvents ? 'events' : 'replies');
  const reservations = new OwnedPartitions<never>({
    ...runtime,
    name: 'reservation outcome',
    stallMs: config.kafka.consumerStallMs,
    groupId: groups.sagaReservations,
    topics: [topics.productEvents, topics.productReplies],
    transactionalId: (p) => `${prefix}.reservations.${sourceOf(p)}.${p.partition}`,
    work: () =>
      new ReservationTranslator({ logger, retry, productEventsTopic: topics.productEvents }),
  });
  // Not watched for stalls: a retry waits out its delay before its offset moves.
  const retries = new OwnedPartitions<never>({
    ...runtime,
    name: 'saga retry',
    groupId: groups.sagaRetries,
    topics: topics.sagaRetries,
    transactionalId: (p) =>
      `${prefix}.retries.${topics.sagaRetries.indexOf(p.topic)}.${p.partition}`,
    work: () => new RetryOwner({ logger, retry, payments }),
  });
  const all = [fulfilment, reservations, retries];
  await Promise.all(all.map((owned) => owned.start()));
  const stopReporting = [
    reportLag(kafka, kafkaGroupLag(groups.sagaFulfilment, [topics.orderEvents])),
    reportLag(
      kafka,
      kafkaGroupLag(groups.sagaReservations, [topics.productEvents, topics.productReplies]),
    ),
    reportLag(kafka, kafkaGroupLag(groups.sagaRetries, topics.sagaRetries)),
    reportDeadLetters(kafka, topics.sagaDeadLetter),
    reportBreaker('payment-gateway', () => breaker.state),
  ];

  // The deadline sweep: a local request to every fulfilment owner, which runs it between
  // batches (also on the orders a restarted saga has just rebuilt).
  const sweepEveryMs = Math.min(1000, Math.max(100, Math.floor(config.saga.deadlineMs / 10)));
  let crashed = false;
  const timer = setInterval(() => {
    fulfilment.broadcast(() => ({ kind: 'deadline-sweep' }));
    const error = all.find((owned) => owned.crashed)?.crashed;
    if (error && !crashed) {
      crashed = true;
      onCrash(error);
    }
  }, sweepEveryMs);
  return {
    checks: [
      {
        name: 'saga consumers',
        check: async () => {
          const error = all.find((owned) => owned.crashed)?.crashed;
          if (error) throw new Error(`a consumer stopped: ${error.message}`);
        },
      },
    ],
    stop: async () => {
      clearInterval(timer);
      for (const stop of stopReporting) stop();
      await Promise.allSettled(all.map((owned) => owned.stop()));
    },
  };
}
