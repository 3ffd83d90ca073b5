import { randomUUID } from 'node:crypto';
import type { Message } from '../domain/decider';
import type { OrderCommandAction, ProductCommandAction } from '../domain/fulfilment/actions';
import type { OutgoingRecord } from '../lib/kafka';
import { traceHeadersOf } from '../lib/telemetry/trace-context';
import type { TopicNames } from '../lib/topics';
import { encodeCommand } from '../schemas/codec';
import {
  DLQ_HEADERS,
  encodePaymentRequest,
  type PaymentRequest,
  RETRY_HEADERS,
} from './payment-request';
import type { PaymentStepResult } from './payment-step';

/** Who the saga's commands come from. */
export const SAGA_ACTOR = 'service:order-fulfilment-saga';

export interface RetryPolicy {
  /** Delay before each retry; one retry topic each (SAGA_RETRY_DELAYS_MS). */
  delaysMs: number[];
  topics: TopicNames;
}

/**
 * Everything one saga transaction appends: commands to product and order owners, payment calls
 * to retry later, payment calls given up on (dead letters). The owned-partition runtime commits
 * them with the consumed offsets, so a restarted saga neither repeats nor forgets any of it.
 */
export class Outbox {
  readonly records: OutgoingRecord[] = [];
  private readonly commandIds = new Set<string>();

  constructor(private readonly policy: RetryPolicy) {}

  /** A command of the workflow, to its aggregate's commands topic. */
  action(action: ProductCommandAction | OrderCommandAction, correlationId: string): void {
    if (action.aggregate === 'product')
      this.command(
        'product',
        action.command.productId,
        action.commandId,
        action.command,
        correlationId,
      );
    else
      this.command(
        'order',
        action.command.orderId,
        action.commandId,
        action.command,
        correlationId,
      );
  }

  command(
    aggregate: 'product' | 'order',
    aggregateId: string,
    commandId: string,
    command: Message,
    correlationId: string,
  ): void {
    // The same command twice in one transaction (a sweep and a reaction) is sent once.
    if (this.commandIds.has(commandId)) return;
    this.commandIds.add(commandId);
    // The same id and request hash on every repeat: the owner answers repeats, applies once.
    // No reply is asked for: the outcome shows in the owner's events (or its refusal's reply).
    const { value, headers } = encodeCommand(command, {
      commandId,
      correlationId,
      actor: SAGA_ACTOR,
      issuedAt: new Date().toISOString(),
      requestHash: commandId,
      // The reaction's span (see fulfilment-owner), so the command's owner continues its trace.
      ...traceHeadersOf(),
    });
    const { productCommands, orderCommands } = this.policy.topics;
    this.records.push({
      topic: aggregate === 'product' ? productCommands : orderCommands,
      key: aggregateId,
      value,
      headers,
    });
  }

  /**
   * Routes a payment call that did not settle: to the retry topic of its next attempt (not
   * blocking the partition), or, after the last one, to the dead-letter topic.
   */
  retryLater(
    request: PaymentRequest,
    result: Extract<PaymentStepResult, { kind: 'retry' }>,
    now = Date.now(),
  ): 'retry' | 'dead-letter' {
    const { delaysMs } = this.policy;
    if (!result.countsAsAttempt) {
      // The breaker kept us from calling: wait, keep the attempt.
      const index = Math.max(0, Math.min(request.attempt - 2, delaysMs.length - 1));
      this.toRetryTopic(
        index,
        request,
        result.error,
        now + Math.max(delaysMs[index] ?? 0, result.retryInMs ?? 0),
      );
      return 'retry';
    }
    if (request.attempt > delaysMs.length) {
      this.deadLetter(request, result.error, now);
      return 'dead-letter';
    }
    const index = request.attempt - 1;
    this.toRetryTopic(
      index,
      { ...request, attempt: request.attempt + 1 },
      result.error,
      now + (delaysMs[index] ?? 0),
    );
    return 'retry';
  }

  /** Sets a payment call aside for an operator (`orderstream dlq`). */
  deadLetter(request: PaymentRequest, error: string, now = Date.now()): void {
    this.records.push({
      topic: this.policy.topics.sagaDeadLetter,
      key: request.orderId,
      value: encodePaymentRequest(request),
      headers: {
        [DLQ_HEADERS.id]: randomUUID(),
        [DLQ_HEADERS.error]: error.slice(0, 1000),
        [DLQ_HEADERS.attempts]: String(request.attempt),
        [DLQ_HEADERS.failedAt]: new Date(now).toISOString(),
      },
    });
  }

  private toRetryTopic(
    index: number,
    request: PaymentRequest,
    error: string,
    notBefore: number,
  ): void {
    this.records.push({
      topic: this.policy.topics.sagaRetries[index] as string,
      key: request.orderId,
      value: encodePaymentRequest(request),
      headers: {
        [RETRY_HEADERS.notBefore]: String(notBefore),
        [RETRY_HEADERS.lastError]: error.slice(0, 1000),
        // The failed call's trace: its retry continues it.
        ...traceHeadersOf(),
      },
    });
  }
}
