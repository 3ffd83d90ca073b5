import { PaymentGatewayClient } from '../infra/payment-gateway/client';
import type { Config } from '../lib/config';
import { createKafka } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { topicNames } from '../lib/topics';
import { CircuitBreaker } from './circuit-breaker';
import { RetryWorker } from './retry-worker';
import { SagaProcessor } from './saga-processor';

export interface Sagas {
  stop: () => Promise<void>;
}

/** The sagas process: the fulfilment saga on the order events, and one worker per retry topic. */
export async function startSagas(config: Config, logger: Logger): Promise<Sagas> {
  const kafka = createKafka(config, logger);
  const topics = topicNames(config.topics);
  const retry = { delaysMs: config.topics.sagaRetryDelaysMs, topics };
  const gateway = new PaymentGatewayClient(config.paymentGateway.url, {
    timeoutMs: config.saga.gatewayTimeoutMs,
  });
  // One breaker for the whole process: every path to the gateway sees its failures.
  const breaker = new CircuitBreaker(config.saga.breakerThreshold, config.saga.breakerCooldownMs);
  const groupPrefix = config.topics.prefix;
  const saga = new SagaProcessor({
    kafka,
    logger,
    groupId: `${groupPrefix}.saga.fulfilment`,
    transactionalIdPrefix: `${groupPrefix}.saga.fulfilment`,
    ordersTopic: topics.orderEvents,
    retry,
    gateway,
    breaker,
    deadlineMs: config.saga.deadlineMs,
    sessionTimeoutMs: config.commands.sessionTimeoutMs,
    sweepEveryMs: Math.min(1000, Math.max(100, Math.floor(config.saga.deadlineMs / 10))),
  });
  const workers = config.topics.sagaRetryDelaysMs.map(
    (_, index) =>
      new RetryWorker({
        kafka,
        logger,
        index,
        groupPrefix,
        retry,
        gateway,
        breaker,
        sessionTimeoutMs: config.commands.sessionTimeoutMs,
      }),
  );
  await Promise.all([saga.start(), ...workers.map((w) => w.start())]);
  return {
    stop: async () => {
      await Promise.allSettled([saga.stop(), ...workers.map((w) => w.stop())]);
    },
  };
}
