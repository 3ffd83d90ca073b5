import '../lib/telemetry/register';
import cluster from 'node:cluster';
import { loadConfig } from '../lib/config';
import { runEntrypoint } from '../lib/entrypoint';
import { listen, stopOnSignals } from '../lib/http/serve';
import { createLogger, type Logger } from '../lib/logger';
import { createQueryApi } from './app';

/**
 * The query-api process. With QUERY_API_WORKERS > 1 it is a node:cluster primary that forks
 * that many workers sharing the port (the query API is stateless, and one process is bound by
 * one core), replaces a worker that dies, and stops them all on SIGINT/SIGTERM.
 */
runEntrypoint(async () => {
  const config = loadConfig();
  const logger = createLogger('query-api', config.logLevel);
  if (config.queryApi.workers > 1 && cluster.isPrimary) {
    superviseWorkers(config.queryApi.workers, logger);
    return;
  }
  const queryApi = createQueryApi(config, logger);
  const http = await listen(queryApi.app, config.http.host, config.http.queryApiPort);
  if (cluster.isWorker) process.send?.({ listening: http.url });
  else logger.info({ url: http.url }, 'query-api listening');
  stopOnSignals(logger, async () => {
    // Stop accepting first, then end the open order streams: server.close() waits for them.
    const stopped = http.close();
    queryApi.orderStreams.endAll();
    await stopped;
    await queryApi.close();
  });
});

function superviseWorkers(count: number, logger: Logger): void {
  let stopping = false;
  const listening = new Set<number>();
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: { listening?: string }) => {
      if (!message.listening || worker.process.pid === undefined) return;
      listening.add(worker.process.pid);
      // Announced when every worker has the port (again after a worker was replaced).
      if (listening.size === count) {
        logger.info({ url: message.listening, workers: [...listening] }, 'query-api listening');
      }
    });
    worker.once('exit', (code, signal) => {
      if (worker.process.pid !== undefined) listening.delete(worker.process.pid);
      if (stopping) return;
      logger.error(
        { pid: worker.process.pid, code, signal },
        'query-api worker died; replacing it',
      );
      fork();
    });
  };
  for (let i = 0; i < count; i++) fork();
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    const workers = Object.values(cluster.workers ?? {});
    let left = workers.length;
    if (left === 0) process.exit(0);
    for (const worker of workers) {
      worker?.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      worker?.process.kill('SIGTERM');
    }
    setTimeout(() => process.exit(1), 12_000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
