import type { Response } from 'express';
import type { z } from 'zod';
import { encodeConsistencyToken } from '../../lib/consistency-token';
import { sendProblem } from '../../lib/http/problem';
import type { CommandReply } from '../processor/reply';
import type { acceptedSchema, pendingSchema } from './response-schemas';

const STATUS_BY_KIND = { not_found: 404, conflict: 409, invalid: 422 } as const;

/** The JSON body describing a decided command: the same bytes for every repeat of it. */
export function acceptedBody(reply: CommandReply) {
  if (reply.outcome.status !== 'accepted') throw new Error('not accepted');
  const events = reply.outcome.events;
  return {
    commandId: reply.commandId,
    status: 'accepted' as const,
    aggregateId: reply.aggregateId,
    events,
    consistencyToken: encodeConsistencyToken(events.map((e) => e.position)),
  } satisfies z.infer<typeof acceptedSchema>;
}

/** Answers with a command's outcome: 2xx with events and token, or the rejection as problem+json. */
export function sendOutcome(
  res: Response,
  reply: CommandReply,
  successStatus: 200 | 201,
  location?: string,
): void {
  if (reply.outcome.status === 'rejected') {
    const { kind, code, reason } = reply.outcome.rejection;
    sendProblem(res, {
      type: `urn:orderstream:problem:${code}`,
      title: code.replaceAll('_', ' '),
      status: STATUS_BY_KIND[kind],
      detail: reason,
      code,
      commandId: reply.commandId,
    });
    return;
  }
  const body = acceptedBody(reply);
  res.setHeader('X-Consistency-Token', body.consistencyToken);
  if (location) res.setHeader('Location', location);
  res.status(successStatus).json(body);
}

/** The outcome is not known within the wait: 202 and where to ask later. */
export function sendPending(res: Response, commandId: string): void {
  res
    .status(202)
    .setHeader('Location', `/commands/${commandId}`)
    .json({ commandId, status: 'pending' } satisfies z.infer<typeof pendingSchema>);
}

/** 503 problem+json with Retry-After: not decided, safe to send again. */
export function sendUnavailable(res: Response, retryAfterSeconds: number, detail: string): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  sendProblem(res, {
    type: 'urn:orderstream:problem:unavailable',
    title: 'Service Unavailable',
    status: 503,
    detail,
  });
}
