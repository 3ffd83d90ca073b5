import type { RequestHandler, Router } from 'express';
import { sendProblem } from './problem';
import { type TextKind, textFault } from './text';
import { type FieldError, sendInvalidRequest } from './validation';

/**
 * One gate for every service's input (lib/http/text.ts says what text is refused): headers the
 * services read, query strings, JSON bodies and path parameters holding NUL or another control
 * character are answered 400 naming the field, before any route sees them. Route schemas then
 * narrow further (an id or a name takes no line break; a description may).
 */

/**
 * The request headers the services read. The HTTP parser already refuses C0 controls in
 * header values; C1 controls (bytes 0x80–0x9F, read as Latin-1) get through to here.
 */
export const READ_HEADERS = [
  'Authorization',
  'Idempotency-Key',
  'X-Correlation-Id',
  'X-Consistency-Token',
  'Last-Event-ID',
] as const;

/** Deepest nesting of a JSON body the gate walks (the body limit bounds the size). */
const MAX_DEPTH = 64;

function collect(value: unknown, at: string, kind: TextKind, out: FieldError[], depth = 0): void {
  if (typeof value === 'string') {
    const fault = textFault(value, kind);
    if (fault) out.push({ field: at || '(body)', message: fault });
  } else if (Array.isArray(value)) {
    if (depth < MAX_DEPTH) {
      for (const [i, v] of value.entries()) collect(v, `${at}[${i}]`, kind, out, depth + 1);
    }
  } else if (value !== null && typeof value === 'object' && depth < MAX_DEPTH) {
    for (const [key, v] of Object.entries(value)) {
      const field = at ? `${at}.${key}` : key;
      const keyFault = textFault(key, 'line');
      if (keyFault) out.push({ field: JSON.stringify(field), message: `name ${keyFault}` });
      else collect(v, field, kind, out, depth + 1);
    }
  }
}

/** 400 for a read header, query parameter or JSON body field holding a control character. */
export const refuseControlCharacters: RequestHandler = (req, res, next) => {
  const errors: FieldError[] = [];
  for (const name of READ_HEADERS) {
    const value = req.get(name);
    const fault = value === undefined ? undefined : textFault(value, 'line');
    if (fault) errors.push({ field: name, message: fault });
  }
  collect(req.query, '', 'line', errors);
  // Free text (descriptions, reasons) may span lines; the route's schema says where.
  collect(req.body, '', 'free', errors);
  if (errors.length > 0) return sendInvalidRequest(res, errors);
  next();
};

/** 400 naming the parameter for each of `names` holding a control character, on `router`'s routes. */
export function refuseControlCharactersInParams(router: Router, ...names: string[]): void {
  for (const name of names) {
    router.param(name, (_req, res, next, value: unknown) => {
      const fault = typeof value === 'string' ? textFault(value, 'line') : undefined;
      if (fault) return sendInvalidRequest(res, [{ field: name, message: fault }]);
      next();
    });
  }
}

/** The media types a request body may have (express.json parses these). */
export const JSON_BODY_TYPES = ['application/json', 'application/*+json'];

/** Whether the request carries a body (body-parser's test). */
const hasBody = (headers: Record<string, string | string[] | undefined>) =>
  headers['transfer-encoding'] !== undefined ||
  (headers['content-length'] !== undefined && headers['content-length'] !== '0');

/**
 * 415 for a request body that is not JSON: the services read JSON only, and a body they cannot
 * read must not pass as an empty one (a text/plain cancel reason silently lost). A request
 * without a body needs no Content-Type.
 */
export const requireJsonBody: RequestHandler = (req, res, next) => {
  if (!hasBody(req.headers) || req.is(JSON_BODY_TYPES)) return next();
  const got = req.get('Content-Type');
  sendProblem(res, {
    type: 'urn:orderstream:problem:unsupported-media-type',
    title: 'Unsupported Media Type',
    status: 415,
    detail: `the body must be JSON (Content-Type: application/json); got ${got ? JSON.stringify(got) : 'no Content-Type'}`,
    errors: [{ field: 'Content-Type', message: 'expected application/json' }],
  });
};
