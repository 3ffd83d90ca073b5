import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createRateLimits } from '../lib/http/rate-limit';
import { createKafkaClient } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { withTimeout } from '../lib/timeout';
import { topicNames } from '../lib/topics';
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
 */
export async function startCommandService(config: Config, logger: Logger): Promise<CommandService> {
  const kafka = createKafkaClient(config, logger);
  const names = topicNames(config.topics);
  const groupPrefix = config.topics.prefix;
  const kinds = aggregateKinds(config);
  const processor = new CommandProcessor({
    kafka,
    logger,
    kinds,
    groupId: `${groupPrefix}.command-processor`,
    transactionalIdPrefix: `${groupPrefix}.owner`,
    partitions: config.topics.partitions,
    sessionTimeoutMs: config.commands.sessionTimeoutMs,
    maxCommandsPerTransaction: config.commands.maxPerTransaction,
    maxRememberedCommands: config.commands.idempotencyWindow,
  });
  const bus = new CommandBus(kafka, logger, [names.productReplies, names.orderReplies]);
  const router = new CommandRouter(processor, bus, logger, config.commands.maxInFlight);
  const catalogue = new ProductCatalogue(kafka, logger, names.productEvents);
  const admin = kafka.admin();
  await Promise.all([processor.start(), bus.start(), catalogue.start()]);
  const kafkaAnswers = async () => {
    await withTimeout(admin.brokers(), config.healthTimeoutMs, 'Kafka did not answer in time');
    if (processor.crashed)
      throw new Error(`command consumer crashed: ${processor.crashed.message}`);
  };
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
