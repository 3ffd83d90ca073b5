import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createKafka } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { topicNames } from '../lib/topics';
import { aggregateKinds } from './aggregates';
import { createCommandApi } from './app';
import { CommandBus } from './command-bus';
import { CommandProcessor } from './processor/command-processor';
import { ProductCatalogue } from './product-catalogue';

export interface CommandService {
  app: Express;
  stop: () => Promise<void>;
}

/**
 * Everything in the command-api process: the partition owners (command processor), the bus
 * the HTTP handlers send commands through, the price catalogue, and the HTTP app.
 */
export async function startCommandService(config: Config, logger: Logger): Promise<CommandService> {
  const kafka = createKafka(config, logger);
  const names = topicNames(config.topics);
  const groupPrefix = `${config.topics.prefix}`;
  const processor = new CommandProcessor({
    kafka,
    logger,
    kinds: aggregateKinds(config),
    groupId: `${groupPrefix}.command-processor`,
    transactionalIdPrefix: `${groupPrefix}.owner`,
    partitions: config.topics.partitions,
    sessionTimeoutMs: config.commands.sessionTimeoutMs,
    maxCommandsPerTransaction: config.commands.maxPerTransaction,
    maxRememberedCommands: config.commands.idempotencyWindow,
  });
  const bus = new CommandBus(
    kafka,
    logger,
    [names.productReplies, names.orderReplies],
    groupPrefix,
  );
  const catalogue = new ProductCatalogue(kafka, logger, names.productEvents, groupPrefix);
  await Promise.all([processor.start(), bus.start(), catalogue.start()]);
  return {
    app: createCommandApi(config, logger, { bus, catalogue }),
    stop: async () => {
      await Promise.allSettled([processor.stop(), bus.stop(), catalogue.stop()]);
    },
  };
}
