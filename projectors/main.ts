import '../lib/telemetry/register';
import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { serveOps } from '../lib/http/ops-server';
import { stopOnSignals } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { reportProjectorMetrics, startProjectors } from './service';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('projectors', config.logLevel);
  const projectors = await startProjectors(config, logger);
  const stopReporting = reportProjectorMetrics(config, logger);
  const http = await serveOps(
    config,
    logger,
    config.http.projectorsPort,
    'PROJECTORS_PORT',
    projectors.checks,
  );
  logger.info({ url: http.url }, 'projectors running');
  stopOnSignals(logger, async () => {
    await http.close();
    await stopReporting();
    await projectors.stop();
  });
});
