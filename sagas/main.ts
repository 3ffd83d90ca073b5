import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { startSagas } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('sagas', config.logLevel);
  const sagas = await startSagas(config, logger);
  logger.info('sagas running');
  stopOnSignals(logger, sagas.stop);
});
