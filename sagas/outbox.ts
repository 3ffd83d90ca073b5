import { randomUUID } from 'node:crypto';
import type { Message as KafkaOut } from 'kafkajs';
import { COMMAND_HEADERS } from '../command-api/processor/command-headers';
import type { Message } from '../domain/decider';
import type { Transaction } from '../lib/kafka';
import type { TopicNames } from '../lib/topics';
import { encodeCommand } from '../schemas/codec';
import {
  DLQ_HEADERS,
  encodePaymentRequest,
  type PaymentRequest,
  RETRY_HEADERS,
} from './payment-request';
import type { PaymentStepResult } from './payment-step';

export interface RetryPolicy {
  /** Delay before each retry; one retry topic each (SAGA_RETRY_DELAYS_MS). */
  delaysMs: number[];
  topics: TopicNames;
}

/**
 * Everything one saga transaction writes: commands to product and order owners, payment
 * calls to retry later, payments given up on (dead letters). Sent and committed together with
 * the consumed offsets, so a restarted saga neither repeats nor forgets any of it.
 */
export class Outbox {
  private readonly messages = new Map<string, KafkaOut[]>();

  constructor(
    private readonly policy: RetryPolicy,
    private readonly actor: string,
  ) {}

  private push(topic: string, message: KafkaOut): void {
    const list = this.messages.get(topic) ?? [];
    list.push(message);
    this.messages.set(topic, list);
  }

  command(
    aggregate: 'product' | 'order',
    aggregateId: string,
    commandId: string,
    command: Message,
    correlationId: string,
    notifyOrder = false,
  ): void {
    const { value, headers } = encodeCommand(command, {
      commandId,
      correlationId,
      actor: this.actor,
      issuedAt: new Date().toISOString(),
    });
    // The same command id and hash on every repeat: the owner answers repeats, applies once.
    const extra: Record<string, string> = { [COMMAND_HEADERS.requestHash]: commandId };
    if (notifyOrder) extra[COMMAND_HEADERS.notifyOrder] = 'true';
    const topic =
      aggregate === 'product'
        ? this.policy.topics.productCommands
        : this.policy.topics.orderCommands;
    this.push(topic, { key: aggregateId, value, headers: { ...headers, ...extra } });
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
    const { delaysMs, topics } = this.policy;
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
      this.push(topics.sagaDeadLetter, {
        key: request.orderId,
        value: encodePaymentRequest(request),
        headers: {
          [DLQ_HEADERS.id]: randomUUID(),
          [DLQ_HEADERS.error]: result.error.slice(0, 1000),
          [DLQ_HEADERS.attempts]: String(request.attempt),
          [DLQ_HEADERS.failedAt]: new Date(now).toISOString(),
        },
      });
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

  private toRetryTopic(
    index: number,
    request: PaymentRequest,
    error: string,
    notBefore: number,
  ): void {
    const topic = this.policy.topics.sagaRetries[index] as string;
    this.push(topic, {
      key: request.orderId,
      value: encodePaymentRequest(request),
      headers: {
        [RETRY_HEADERS.notBefore]: String(notBefore),
        [RETRY_HEADERS.lastError]: error.slice(0, 1000),
      },
    });
  }

  get isEmpty(): boolean {
    return this.messages.size === 0;
  }

  async send(tx: Transaction): Promise<void> {
    for (const [topic, messages] of this.messages) await tx.send({ topic, messages });
  }
}
