import type { Express } from 'express';
import type { Config } from '../lib/config';
import { createHttpApp } from '../lib/http/app';
import { pingKafka } from '../lib/kafka';
import type { Logger } from '../lib/logger';

/** The command API's HTTP app. Ready when the Kafka brokers answer. */
export function createCommandApi(config: Config, logger: Logger): Express {
  return createHttpApp({
    logger,
    bodyLimit: config.http.bodyLimit,
    healthTimeoutMs: config.healthTimeoutMs,
    checks: [{ name: 'kafka', check: () => pingKafka(config, config.healthTimeoutMs) }],
  });
}
