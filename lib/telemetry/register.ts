/**
 * Imported first by each process's main: starts tracing as configured (OTEL_* variables)
 * before the modules OpenTelemetry instruments are loaded. The service is named after the
 * main's folder (command-api, query-api, projectors, sagas, payment-gateway) unless
 * OTEL_SERVICE_NAME says otherwise. With tracing off the SDK is not even loaded.
 */
import path from 'node:path';
import { loadConfig } from '../config';

function tracingConfig() {
  try {
    return loadConfig().tracing;
  } catch {
    return undefined; // the main reports the bad configuration itself
  }
}

const config = tracingConfig();
if (config && config.exporter !== 'none') {
  // Required here, not imported above: synchronously, before the main's own imports.
  const { startTracing } = require('./tracing') as typeof import('./tracing');
  startTracing(path.basename(path.dirname(process.argv[1] ?? 'orderstream')), config);
}
