import { prettyFactory } from 'pino-pretty';
import { prettyOptions } from '../lib/logger';

/** pino's levels: what a line a service wrote outside its logger counts as. */
const INFO = 30;
const ERROR = 50;

/**
 * How `npm start` passes on a line a service wrote. On a terminal: pretty, one line per event,
 * the service in a column. Otherwise: JSON lines, unprefixed, so `pino-pretty` (or a log shipper)
 * reads the combined output; a line that is not JSON (a crash's stack trace) becomes a JSON log
 * event of the service, at ERROR when it came on stderr.
 */
export function serviceOutput(
  service: string,
  terminal: boolean,
): (line: string, stream: 'stdout' | 'stderr') => string {
  const prettify = prettyFactory(prettyOptions(true));
  return (line, stream) => {
    let event: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        event = parsed as Record<string, unknown>;
      }
    } catch {
      // not a log event
    }
    event ??= {
      level: stream === 'stderr' ? ERROR : INFO,
      time: Date.now(),
      name: service,
      msg: line,
    };
    event.name ??= service;
    return terminal ? prettify(event).trimEnd() : JSON.stringify(event);
  };
}
