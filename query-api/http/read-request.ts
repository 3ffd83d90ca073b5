import type { ErrorRequestHandler, Request, Response } from 'express';
import { decodeConsistencyToken, type LogPosition } from '../../lib/consistency-token';
import { sendProblem } from '../../lib/http/problem';
import { sendInvalidRequest } from '../../lib/http/validation';
import type { Logger } from '../../lib/logger';
import { ConsistencyTimeoutError, relevantPositions } from '../read-side/consistency';

/** The request header carrying a consistency token from the command API. */
export const CONSISTENCY_HEADER = 'X-Consistency-Token';

/** Response header naming which copy of the Postgres read model answered. */
export const READ_FROM_HEADER = 'X-Read-From';

export interface ReadConsistency {
  /**
   * The token's positions the read side must have applied (those of the topics it consumes);
   * undefined to read at once (no token, or none of its positions concern the read side).
   */
  positions: LogPosition[] | undefined;
}

/**
 * The request's consistency requirement, or undefined after answering 400 for a token this
 * system did not make. `topics` are the topics the read side consumes.
 */
export function readConsistency(
  req: Request,
  res: Response,
  topics: readonly string[],
): ReadConsistency | undefined {
  const token = req.header(CONSISTENCY_HEADER);
  if (token === undefined) return { positions: undefined };
  const positions = decodeConsistencyToken(token.trim());
  if (!positions) {
    const message = 'not a consistency token (pass the command API’s token back unchanged)';
    sendInvalidRequest(res, [{ field: CONSISTENCY_HEADER, message }]);
    return undefined;
  }
  const relevant = relevantPositions(positions, topics);
  return { positions: relevant.length > 0 ? relevant : undefined };
}

/** Errors of a store that is not answering (connection refused, reset, timed out, shut down). */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);

function isUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, name, message } = err as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|Connection is closed/i.test(
      message,
    )
  );
}

/**
 * Postgres errors a request's own values cause (text it cannot hold, a value it cannot convert).
 * Input is validated before any query, so these mean a gap in that validation: still the
 * request's fault, never a 500.
 */
const INPUT_VALUE_CODES = new Set([
  '22001', // string_data_right_truncation
  '22003', // numeric_value_out_of_range
  '22007', // invalid_datetime_format
  '22008', // datetime_field_overflow
  '22021', // character_not_in_repertoire (e.g. NUL in text)
  '22P02', // invalid_text_representation
  '22P05', // untranslatable_character
]);

function isInputValueError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && INPUT_VALUE_CODES.has(code);
}

/**
 * Turns the read side's "try again shortly" failures into 503 problems with `Retry-After: 1`:
 * a consistency wait that ran out, or a store that does not answer; and a value of the request
 * the read model cannot take into a 400. Anything else goes on to the 500 handler.
 */
export function readErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof ConsistencyTimeoutError) {
      res.setHeader('Retry-After', '1');
      sendProblem(res, {
        type: 'urn:orderstream:problem:consistency-timeout',
        title: 'Service Unavailable',
        status: 503,
        detail: `${err.message}; retry shortly with the same ${CONSISTENCY_HEADER}`,
        instance: req.originalUrl,
      });
      return;
    }
    if (isInputValueError(err)) {
      logger.warn(
        { err, url: req.originalUrl },
        'a request value passed validation but not Postgres',
      );
      sendInvalidRequest(res, [
        { field: '(request)', message: 'holds a value the read model cannot take' },
      ]);
      return;
    }
    if (isUnavailable(err)) {
      logger.warn({ err }, 'a read-side store is not answering');
      res.setHeader('Retry-After', '1');
      sendProblem(res, {
        title: 'Service Unavailable',
        status: 503,
        detail: 'a read-side store is not answering; retry shortly',
        instance: req.originalUrl,
      });
      return;
    }
    next(err);
  };
}
