import '../../lib/telemetry/register';
import { loadConfig } from '../../lib/config';
import { runEntrypoint } from '../../lib/entrypoint';
import { OperatorError } from '../../lib/errors';
import { listen, stopOnSignals } from '../../lib/http/serve';
import { createLogger } from '../../lib/logger';
import { createPaymentGateway } from './app';
import { behaviourFromConfig } from './behaviour';

runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('payment-gateway', config.logLevel);
  const gateway = createPaymentGateway({
    logger,
    behaviour: behaviourFromConfig(config.paymentGateway),
    bodyLimit: config.http.bodyLimit,
    healthTimeoutMs: config.healthTimeoutMs,
  });
  const port = config.paymentGateway.port;
  const http = await listen(gateway.app, config.http.host, port).catch((err: unknown) => {
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      throw new OperatorError(
        `port ${port} is in use (PAYMENT_GATEWAY_PORT): stop what runs there, or set PAYMENT_GATEWAY_PORT (and PAYMENT_GATEWAY_URL for its clients)`,
      );
    }
    throw err;
  });
  logger.info({ url: http.url, behaviour: gateway.behaviour() }, 'payment-gateway listening');
  stopOnSignals(logger, async () => {
    gateway.stop();
    await http.close();
  });
});
