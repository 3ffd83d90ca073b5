import { type Express, type RequestHandler, Router } from 'express';
import type { Message } from '../domain/decider';
import type { Config } from '../lib/config';
import { createHttpApp } from '../lib/http/app';
import { pingKafka } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import type { CommandBus } from './command-bus';
import type { CommandRouter } from './command-router';
import { commandStatusRoutes } from './http/command-status-routes';
import { unencodableCommandHandler } from './http/dispatch';
import { openApiDocument } from './http/openapi';
import { orderRoutes } from './http/order-routes';
import { productRoutes } from './http/product-routes';
import type { AggregateKind } from './processor/aggregate-kind';
import type { ProductCatalogue } from './product-catalogue';

export interface CommandApiParts {
  bus: CommandBus;
  router: CommandRouter;
  kinds: AggregateKind<Message, Message, unknown>[];
  catalogue: ProductCatalogue;
  /** Resolves when the Kafka brokers answer (readiness). */
  kafkaAnswers: () => Promise<void>;
  /** Rate limits (undefined: off). */
  rateLimit?: RequestHandler;
}

/** The command API's HTTP app. Ready when the Kafka brokers answer. */
export function createCommandApi(config: Config, logger: Logger, parts?: CommandApiParts): Express {
  const routes = Router();
  routes.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  if (parts) {
    const dispatcher = {
      config,
      bus: parts.bus,
      router: parts.router,
      kinds: new Map(parts.kinds.map((kind) => [kind.topics.commands, kind])),
    };
    routes.use(productRoutes(dispatcher, parts.catalogue));
    routes.use(orderRoutes(dispatcher, parts.catalogue));
    routes.use(commandStatusRoutes(config, parts.bus));
  }
  return createHttpApp({
    logger,
    bodyLimit: config.http.bodyLimit,
    healthTimeoutMs: config.healthTimeoutMs,
    checks: [
      {
        name: 'kafka',
        check: parts?.kafkaAnswers ?? (() => pingKafka(config, config.healthTimeoutMs)),
      },
    ],
    routes,
    rateLimit: parts?.rateLimit,
    errorHandlers: [unencodableCommandHandler],
  });
}
