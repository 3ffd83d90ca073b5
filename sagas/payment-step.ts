import { type Context, context, SpanKind } from '@opentelemetry/api';
import type { OrderCommand } from '../domain';
import { type FulfilmentAction, paymentOutcomeCommandId } from '../domain/fulfilment/actions';
import type { PaymentGatewayClient } from '../infra/payment-gateway/client';
import type { Logger } from '../lib/logger';
import { inSpan, TRACERS } from '../lib/telemetry/trace-context';
import type { CircuitBreaker } from './circuit-breaker';
import type { Outbox } from './outbox';
import type { PaymentRequest } from './payment-request';

/** The gateway as the saga sees it (the simulator's client, or a real provider's adapter). */
export type PaymentGateway = Pick<PaymentGatewayClient, 'authorize' | 'refund' | 'voidPayment'>;

export interface OrderCommandOut {
  commandId: string;
  command: OrderCommand;
}

/** What became of one gateway call: settled (with the order commands that record it) or to retry. */
export type PaymentStepResult =
  | { kind: 'settled'; commands: OrderCommandOut[] }
  | {
      kind: 'retry';
      error: string;
      /** False when the breaker kept us from calling: waiting must not burn an attempt. */
      countsAsAttempt: boolean;
      retryInMs?: number;
    };

/** Calls the gateway for `request` through the circuit breaker. */
export async function runPaymentStep(
  request: PaymentRequest,
  gateway: PaymentGateway,
  breaker: CircuitBreaker,
): Promise<PaymentStepResult> {
  const permit = breaker.permit();
  if (!permit.allowed) {
    return {
      kind: 'retry',
      error: 'circuit open: the gateway keeps failing',
      countsAsAttempt: false,
      retryInMs: permit.retryInMs,
    };
  }
  try {
    return await callGateway(request, gateway, breaker);
  } catch (err) {
    // The gateway refused the request itself (a bug, not an outage): retrying cannot help.
    breaker.succeeded();
    const reason = `payment gateway refused the request: ${err instanceof Error ? err.message : String(err)}`;
    return request.kind === 'authorize-payment'
      ? {
          kind: 'settled',
          commands: [
            {
              commandId: paymentOutcomeCommandId(request.orderId),
              command: { type: 'RecordPaymentFailed', orderId: request.orderId, reason },
            },
          ],
        }
      : { kind: 'settled', commands: [] };
  }
}

async function callGateway(
  request: PaymentRequest,
  gateway: PaymentGateway,
  breaker: CircuitBreaker,
): Promise<PaymentStepResult> {
  if (request.kind === 'authorize-payment') {
    const { idempotencyKey, orderId, customerId, amount } = request;
    const result = await gateway.authorize({ idempotencyKey, orderId, customerId, amount });
    if (result.outcome === 'transient') {
      breaker.failed();
      return { kind: 'retry', error: result.reason, countsAsAttempt: true };
    }
    breaker.succeeded();
    const commandId = paymentOutcomeCommandId(request.orderId);
    return {
      kind: 'settled',
      commands: [
        result.outcome === 'authorized'
          ? {
              commandId,
              command: {
                type: 'RecordPaymentAuthorized',
                orderId: request.orderId,
                paymentId: result.paymentId,
                amount: request.amount,
              },
            }
          : {
              commandId,
              command: {
                type: 'RecordPaymentFailed',
                orderId: request.orderId,
                reason: result.reason,
              },
            },
      ],
    };
  }
  const result =
    request.kind === 'refund-payment'
      ? await gateway.refund(request.paymentId, request.idempotencyKey)
      : await gateway.voidPayment(request.idempotencyKey);
  if (result.outcome === 'transient') {
    breaker.failed();
    return { kind: 'retry', error: result.reason, countsAsAttempt: true };
  }
  breaker.succeeded();
  return { kind: 'settled', commands: [] };
}

/** What settling a payment call needs: the gateway, the process's breaker, a logger. */
export interface PaymentDeps {
  gateway: PaymentGateway;
  breaker: CircuitBreaker;
  logger: Logger;
}

/** A payment call the saga owes, and the correlation id of what asked for it. */
export interface OwedPayment {
  request: PaymentRequest;
  correlationId: string;
  /** The trace context of the reaction that owes it (the gateway call continues it). */
  trace?: Context;
}

/** A gateway call the workflow asks for, as its first attempt. */
export function firstAttempt(
  action: Exclude<FulfilmentAction, { kind: 'command' }>,
): PaymentRequest {
  switch (action.kind) {
    case 'authorize-payment':
      return { ...action, attempt: 1 };
    case 'refund-payment':
      return {
        kind: 'refund-payment',
        orderId: action.orderId,
        paymentId: action.paymentId,
        idempotencyKey: action.idempotencyKey,
        attempt: 1,
      };
    case 'void-payment':
      return {
        kind: 'void-payment',
        orderId: action.orderId,
        idempotencyKey: action.idempotencyKey,
        attempt: 1,
      };
  }
}

/** Calls the gateway once; records the outcome as order commands, or a retry / dead letter. */
export async function settlePayment(
  owed: OwedPayment,
  deps: PaymentDeps,
  outbox: Outbox,
): Promise<void> {
  const { request, correlationId } = owed;
  await context.with(owed.trace ?? context.active(), () =>
    inSpan(TRACERS.sagas, `payment ${request.kind}`, SpanKind.CLIENT, () =>
      settleInContext(request, correlationId, deps, outbox),
    ),
  );
}

async function settleInContext(
  request: PaymentRequest,
  correlationId: string,
  deps: PaymentDeps,
  outbox: Outbox,
): Promise<void> {
  const result = await runPaymentStep(request, deps.gateway, deps.breaker);
  if (result.kind === 'settled') {
    for (const c of result.commands)
      outbox.command('order', c.command.orderId, c.commandId, c.command, correlationId);
    return;
  }
  const route = outbox.retryLater(request, result);
  deps.logger.warn(
    { orderId: request.orderId, attempt: request.attempt, error: result.error, route },
    'payment call did not settle',
  );
}

/**
 * Settles a batch's payment calls: the orders concurrently, each order's calls one after the
 * other in the order asked (an authorize before the void that follows it).
 */
export async function settleAll(
  owed: OwedPayment[],
  deps: PaymentDeps,
  outbox: Outbox,
): Promise<void> {
  const byOrder = new Map<string, OwedPayment[]>();
  for (const o of owed) {
    const list = byOrder.get(o.request.orderId) ?? [];
    list.push(o);
    byOrder.set(o.request.orderId, list);
  }
  await Promise.all(
    [...byOrder.values()].map(async (calls) => {
      for (const call of calls) await settlePayment(call, deps, outbox);
    }),
  );
}
