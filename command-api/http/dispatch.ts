import { SpanKind } from '@opentelemetry/api';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { Message } from '../../domain/decider';
import type { Config } from '../../lib/config';
import { correlationIdOf } from '../../lib/http/request-log';
import { sendInvalidRequest } from '../../lib/http/validation';
import { inSpan, TRACERS, traceHeadersOf } from '../../lib/telemetry/trace-context';
import { SchemaError } from '../../schemas/codec';
import type { CommandBus } from '../command-bus';
import { type CommandRouter, OverloadedError } from '../command-router';
import { commandIdFor, newAggregateId, requestHash } from '../ids';
import type { AggregateKind } from '../processor/aggregate-kind';
import type { CommandReply } from '../processor/reply';
import { sendOutcome, sendPending, sendUnavailable } from './outcome';
import { idempotencyKeyHeader } from './request-schemas';

export interface Dispatcher {
  config: Config;
  bus: CommandBus;
  router: CommandRouter;
  /** The aggregate kinds by commands topic. */
  kinds: Map<string, AggregateKind<Message, Message, unknown>>;
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
    correlationId: correlationIdOf(res),
    requestHash: requestHash(req.method, req.path, body),
  };
}

/**
 * A command built from the request's values that its schema cannot carry (e.g. a number past
 * what an Avro long holds): nothing was sent. Route schemas should refuse such values first;
 * this keeps one they miss a 400 rather than a 500.
 */
export class UnencodableCommandError extends Error {
  override name = 'UnencodableCommandError';
  constructor(readonly schemaError: SchemaError) {
    super(schemaError.message, { cause: schemaError });
  }
}

/** Sends a command to its aggregate's owner and waits (bounded) for the outcome. */
export async function dispatch(
  d: Dispatcher,
  commandsTopic: string,
  aggregateId: string,
  command: Message,
  prepared: PreparedCommand,
): Promise<CommandReply | undefined> {
  const kind = d.kinds.get(commandsTopic);
  if (!kind) throw new Error(`no aggregate kind for ${commandsTopic}`);
  try {
    // The span the command's owner continues, here or across the commands topic.
    return await inSpan(TRACERS.commandApi, `send ${command.type}`, SpanKind.PRODUCER, () =>
      d.router.send(
        kind,
        aggregateId,
        command,
        { ...prepared, ...traceHeadersOf() },
        d.config.commands.timeoutMs,
      ),
    );
  } catch (err) {
    if (err instanceof SchemaError) throw new UnencodableCommandError(err);
    throw err;
  }
}

/**
 * Answers a command that could not be sent: 503 with Retry-After — the process is overloaded,
 * or its owner and the commands topic are out of reach. Never a 500: retrying with the same
 * Idempotency-Key is safe. (An unencodable command goes on to its 400 handler.)
 */
export function sendNotSent(res: Response, err: unknown): void {
  if (err instanceof UnencodableCommandError) throw err;
  if (err instanceof OverloadedError) {
    sendUnavailable(res, err.retryAfterSeconds, `${err.reason}; try again`);
    return;
  }
  sendUnavailable(
    res,
    1,
    `the command could not reach its owner (${err instanceof Error ? err.message : String(err)}); try again with the same Idempotency-Key`,
  );
}

/** 400 naming the field of an UnencodableCommandError; other errors go on. */
export const unencodableCommandHandler: ErrorRequestHandler = (err, _req, res, next) => {
  if (!(err instanceof UnencodableCommandError) || res.headersSent) return next(err);
  sendInvalidRequest(res, [
    {
      field: err.schemaError.field ?? '(body)',
      message: `is beyond what a ${err.schemaError.typeName ?? 'command'} command can hold`,
    },
  ]);
};

export interface CommandRequest<C extends Message> {
  commandsTopic: string;
  /** e.g. `/orders`: where a created aggregate can be read (`Location`). */
  collection: string;
  body: unknown;
  /** The aggregate the command is for; undefined when the command creates it. */
  aggregateId: string | undefined;
  /** A created aggregate's id, from the command's id (default: newAggregateId). */
  newId?: (commandId: string) => string;
  /** The command for that aggregate; undefined after answering the request itself. */
  build: (aggregateId: string, prepared: PreparedCommand) => C | undefined | Promise<C | undefined>;
  created?: boolean;
}

/**
 * The whole round trip of one command: its id (Idempotency-Key), its aggregate (a created one
 * gets an id derived from the command, so a retry creates the same), the wait for its outcome,
 * and the answer (2xx, problem+json, or 202 pending).
 */
export async function runCommand<C extends Message>(
  d: Dispatcher,
  req: Request,
  res: Response,
  r: CommandRequest<C>,
): Promise<void> {
  const prepared = prepare(req, res, r.body);
  if (!prepared) return;
  const id = r.aggregateId ?? (r.newId ?? newAggregateId)(prepared.commandId);
  let command: C | undefined;
  try {
    command = await r.build(id, prepared);
  } catch (err) {
    // Building may need what this process has not caught up with yet (the product catalogue).
    if (err instanceof OverloadedError) return sendNotSent(res, err);
    throw err;
  }
  if (!command) return;
  let reply: CommandReply | undefined;
  try {
    reply = await dispatch(d, r.commandsTopic, id, command, prepared);
  } catch (err) {
    return sendNotSent(res, err);
  }
  if (!reply) return sendPending(res, prepared.commandId);
  sendOutcome(res, reply, r.created ? 201 : 200, r.created ? `${r.collection}/${id}` : undefined);
}

/** The route files' shorthand for runCommand on one commands topic and collection. */
export function commandRunner<C extends Message>(
  d: Dispatcher,
  commandsTopic: string,
  collection: string,
) {
  return (
    req: Request,
    res: Response,
    body: unknown,
    aggregateId: string | undefined,
    build: CommandRequest<C>['build'],
    created = false,
  ): Promise<void> =>
    runCommand(d, req, res, { commandsTopic, collection, body, aggregateId, build, created });
}
