import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { listen, stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { createCommandApi } from './app';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('command-api', config.logLevel);
  const http = await listen(
    createCommandApi(config, logger),
    config.http.host,
    config.http.commandApiPort,
  );
  logger.info({ url: http.url }, 'command-api listening');
  stopOnSignals(logger, http.close);
});
