import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout; credentials never reach them. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.password', 'password'],
      censor: '[redacted]',
    },
  });
}
