import '../lib/telemetry/register';
import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { listen, stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { startCommandService } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('command-api', config.logLevel);
  const service = await startCommandService(config, logger, (err) => {
    // Its partitions would stay unowned in a live process: end, to be restarted.
    logger.fatal({ err }, 'the command consumer stopped; exiting');
    void service.stop().finally(() => process.exit(1));
  });
  const http = await listen(service.app, config.http.host, config.http.commandApiPort);
  logger.info({ url: http.url }, 'command-api listening');
  stopOnSignals(logger, async () => {
    await http.close();
    await service.stop();
  });
});
