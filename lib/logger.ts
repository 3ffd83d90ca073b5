import pino, { type Logger } from 'pino';
import pretty, { type PrettyOptions } from 'pino-pretty';

export type { Logger };

/** Width of the service column in pretty logs (the longest service name, payment-gateway, fits). */
const SERVICE_COLUMN = 16;

/**
 * How a log line reads in a terminal: one line per event, time, level, the service in a column,
 * the message, then the event's fields. Shared by a service run alone and by `npm start`.
 */
export function prettyOptions(colorize: boolean): PrettyOptions {
  return {
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    messageFormat: (log, messageKey) =>
      `${String(log.name ?? '').padEnd(SERVICE_COLUMN)} ${String(log[messageKey] ?? '')}`,
  };
}

/**
 * Logs on stdout, credentials never in them: pretty lines when stdout is a terminal, JSON lines
 * otherwise (a pipe, a file, `npm start`, a container), which `pino-pretty` can read back.
 */
export function createLogger(
  service: string,
  level: string,
  terminal: boolean = process.stdout.isTTY === true,
): Logger {
  const options = {
    name: service,
    level,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.password', 'password'],
      censor: '[redacted]',
    },
  };
  return terminal ? pino(options, pretty({ ...prettyOptions(true), sync: true })) : pino(options);
}
