import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createRateLimits } from '../lib/http/rate-limit';
import { createKafkaClient } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { kafkaGroupLag, reportLag } from '../lib/metrics/consumer-lag';
import { withTimeout } from '../lib/timeout';
import { consumerGroupNames, topicNames } from '../lib/topics';
import { getDefaultRegistry } from '../schemas/registry';
import { publishSchemas } from '../schemas/schema-topic';
import { aggregateKinds } from './aggregates';
import { createCommandApi } from './app';
import { CommandBus } from './command-bus';
import { CommandRouter } from './command-router';
import { CommandProcessor } from './processor/command-processor';
import { ProductCatalogue } from './product-catalogue';

export interface CommandService {
  app: Express;
  stop: () => Promise<void>;
}

/**
 * Everything in the command-api process: the partition owners (command processor), the
 * router and bus the HTTP handlers send commands through, the price catalogue, and the app.
 * `onCrash` hears of a command consumer that stopped for good.
 */
export async function startCommandService(
  config: Config,
  logger: Logger,
  onCrash: (error: Error) => void = () => undefined,
): Promise<CommandService> {
  const kafka = createKafkaClient(config, logger);
  const names = topicNames(config.topics);
  const groupPrefix = config.topics.prefix;
  const kinds = aggregateKinds(config);
  const processor = new CommandProcessor({
    kafka,
    logger,
    kinds,
    groupId: consumerGroupNames(config.topics).commandProcessor,
    transactionalIdPrefix: `${groupPrefix}.owner`,
    partitions: config.topics.partitions,
    sessionTimeoutMs: config.commands.sessionTimeoutMs,
    maxCommandsPerTransaction: config.commands.maxPerTransaction,
    maxRememberedCommands: config.commands.idempotencyWindow,
    snapshotEveryEvents: config.commands.snapshotEveryEvents,
    stallMs: config.kafka.consumerStallMs,
  });
  const bus = new CommandBus(kafka, logger, [names.productReplies, names.orderReplies]);
  const router = new CommandRouter(processor, bus, logger, {
    maxInFlight: config.commands.maxInFlight,
    queueBudgetMs: config.commands.queueBudgetMs,
    backlog: config.commands.maxPerTransaction,
  });
  const catalogue = new ProductCatalogue(kafka, logger, names.productEvents);
  const admin = kafka.admin();
  // Outside consumers decode the events with the schemas topic alone (DESIGN §2).
  const publishing = publishSchemas(kafka, names.schemas, getDefaultRegistry()).then((written) => {
    if (written > 0) logger.info({ topic: names.schemas, written }, 'schemas published');
  });
  await Promise.all([processor.start(), bus.start(), catalogue.start(), publishing]);
  const stopReportingLag = reportLag(
    kafka,
    kafkaGroupLag(consumerGroupNames(config.topics).commandProcessor, [
      names.productCommands,
      names.orderCommands,
    ]),
  );
  const kafkaAnswers = async () => {
    await withTimeout(admin.brokers(), config.healthTimeoutMs, 'Kafka did not answer in time');
    if (processor.crashed)
      throw new Error(`command consumer crashed: ${processor.crashed.message}`);
  };
  // A command consumer stopped for good leaves its partitions unowned: readiness turns false
  // (kafkaAnswers) and the caller hears of it once, to end the process for a restart.
  const crashWatch = setInterval(() => {
    if (!processor.crashed) return;
    clearInterval(crashWatch);
    onCrash(processor.crashed);
  }, 1000);
  crashWatch.unref();
  const rateLimits = createRateLimits(config, logger, 'command-api');
  return {
    app: createCommandApi(config, logger, {
      bus,
      router,
      kinds,
      catalogue,
      kafkaAnswers,
      rateLimit: rateLimits?.handler,
    }),
    stop: async () => {
      clearInterval(crashWatch);
      stopReportingLag();
      await Promise.allSettled([
        processor.stop(),
        bus.stop(),
        catalogue.stop(),
        admin.close(),
        rateLimits?.close(),
      ]);
    },
  };
}
