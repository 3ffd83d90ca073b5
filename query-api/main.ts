import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { listen, stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { createQueryApi } from './app';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('query-api', config.logLevel);
  const queryApi = createQueryApi(config, logger);
  const http = await listen(queryApi.app, config.http.host, config.http.queryApiPort);
  logger.info({ url: http.url }, 'query-api listening');
  stopOnSignals(logger, async () => {
    // Stop accepting first, then end the open order streams: server.close() waits for them.
    const stopped = http.close();
    queryApi.orderStreams.endAll();
    await stopped;
    await queryApi.close();
  });
});
