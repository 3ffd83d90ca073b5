import path from 'node:path';
import type { Config } from '../lib/config';

export interface ServiceProcess {
  name: string;
  /** Entry module without extension, relative to the repository (or dist/) root. */
  entry: string;
  /** Base URL when it serves HTTP (its /health/ready tells when it is up). */
  url?: string;
}

/** Where the service entry modules are: the repository when run from source, dist/ when compiled. */
export const CODE_ROOT = path.resolve(__dirname, '..');

/** Every service process that `npm start` runs, each also startable alone (`npm run start:<name>`). */
export function serviceProcesses(config: Config): ServiceProcess[] {
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host;
  return [
    {
      name: 'command-api',
      entry: 'command-api/main',
      url: `http://${host}:${config.http.commandApiPort}`,
    },
    {
      name: 'query-api',
      entry: 'query-api/main',
      url: `http://${host}:${config.http.queryApiPort}`,
    },
    {
      name: 'payment-gateway',
      entry: 'infra/payment-gateway/main',
      url: `http://${host}:${config.paymentGateway.port}`,
    },
    {
      name: 'projectors',
      entry: 'projectors/main',
      url: `http://${host}:${config.http.projectorsPort}`,
    },
    { name: 'sagas', entry: 'sagas/main', url: `http://${host}:${config.http.sagasPort}` },
  ];
}
