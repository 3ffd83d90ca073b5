import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { listen, stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { startCommandService } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('command-api', config.logLevel);
  const service = await startCommandService(config, logger);
  const http = await listen(service.app, config.http.host, config.http.commandApiPort);
  logger.info({ url: http.url }, 'command-api listening');
  stopOnSignals(logger, async () => {
    await http.close();
    await service.stop();
  });
});
