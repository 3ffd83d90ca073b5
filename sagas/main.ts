import '../lib/telemetry/register';
import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { serveOps } from '../lib/http/ops-server';
import { stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { requireReachable, requireTopics } from '../lib/preflight';
import { topicNames } from '../lib/topics';
import { startSagas } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  // A retry topic for a new SAGA_RETRY_DELAYS_MS entry exists only once `infra up` made it.
  await requireReachable(config, ['kafka']);
  const topics = topicNames(config.topics);
  await requireTopics(
    config,
    [
      topics.orderEvents,
      topics.orderCommands,
      topics.productEvents,
      topics.productCommands,
      topics.productReplies,
      ...topics.sagaRetries,
      topics.sagaDeadLetter,
    ],
    'TOPIC_PREFIX and SAGA_RETRY_DELAYS_MS',
  );
  const logger = createLogger('sagas', config.logLevel);
  const sagas = await startSagas(config, logger, (err) => {
    // A consumer that stopped for good leaves its partitions unserved: end, to be restarted.
    logger.fatal({ err }, 'a saga consumer stopped; exiting');
    void sagas.stop().finally(() => process.exit(1));
  });
  const http = await serveOps(config, logger, config.http.sagasPort, 'SAGAS_PORT', sagas.checks);
  logger.info({ url: http.url }, 'sagas running');
  stopOnSignals(logger, async () => {
    await http.close();
    await sagas.stop();
  });
});
