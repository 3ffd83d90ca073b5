import type { OrderCommand } from '../domain';
import { paymentOutcomeCommandId } from '../domain/fulfilment/actions';
import type { PaymentGatewayClient } from '../infra/payment-gateway/client';
import type { CircuitBreaker } from './circuit-breaker';
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
