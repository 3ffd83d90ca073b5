import type { Request, Response } from 'express';
import type { Message } from '../../domain/decider';
import type { Config } from '../../lib/config';
import { sendInvalidRequest } from '../../lib/http/validation';
import type { CommandBus } from '../command-bus';
import { commandIdFor, requestHash } from '../ids';
import type { CommandReply } from '../processor/reply';
import { idempotencyKeyHeader } from './request-schemas';

export interface Dispatcher {
  config: Config;
  bus: CommandBus;
}

export interface PreparedCommand {
  commandId: string;
  actor: string;
  correlationId: string;
  requestHash: string;
}

export function actorOf(req: Request): string {
  const principal = req.principal;
  if (!principal) throw new Error('route is missing its auth middleware');
  return `${principal.role}:${principal.subject}`;
}

/**
 * The command's id and context from the request: the Idempotency-Key header (validated)
 * makes the id repeatable. Undefined after answering 400 for a bad key.
 */
export function prepare(req: Request, res: Response, body: unknown): PreparedCommand | undefined {
  const rawKey = req.header('Idempotency-Key');
  if (rawKey !== undefined) {
    const parsed = idempotencyKeyHeader.safeParse(rawKey);
    if (!parsed.success) {
      sendInvalidRequest(res, [
        { field: 'Idempotency-Key', message: parsed.error.issues[0]?.message ?? 'invalid' },
      ]);
      return undefined;
    }
  }
  const actor = actorOf(req);
  const commandId = commandIdFor(actor, rawKey);
  return {
    commandId,
    actor,
    correlationId: req.header('X-Correlation-Id')?.slice(0, 200) || commandId,
    requestHash: requestHash(req.method, req.path, body),
  };
}

/** Sends a command to its aggregate's owner and waits (bounded) for the outcome. */
export function dispatch(
  d: Dispatcher,
  commandsTopic: string,
  aggregateId: string,
  command: Message,
  prepared: PreparedCommand,
): Promise<CommandReply | undefined> {
  return d.bus.send(commandsTopic, aggregateId, command, prepared, d.config.commands.timeoutMs);
}
