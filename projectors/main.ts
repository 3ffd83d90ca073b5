import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { startProjectors } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('projectors', config.logLevel);
  const projectors = await startProjectors(config, logger);
  logger.info('projectors running');
  stopOnSignals(logger, projectors.stop);
});
