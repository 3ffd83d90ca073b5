import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { inTransaction } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import type { CircuitBreaker } from './circuit-breaker';
import { Outbox, type RetryPolicy } from './outbox';
import { decodePaymentRequest, headerString, RETRY_HEADERS } from './payment-request';
import type { PaymentGateway } from './payment-step';
import { settlePayment } from './saga-owner';

export interface RetryWorkerOptions {
  kafka: Kafka;
  logger: Logger;
  /** Which delay topic this worker drains (index into the policy's delays). */
  index: number;
  groupPrefix: string;
  retry: RetryPolicy;
  gateway: PaymentGateway;
  breaker: CircuitBreaker;
  sessionTimeoutMs: number;
}

/**
 * Drains one retry topic: each payment call waits until its `not-before` time (its partition
 * paused meanwhile; messages of a delay topic are in due order), is tried
 * again, and its outcome is written (order commands, a later retry, or a dead letter) in one
 * transaction with the consumed offset. The order events partitions are never blocked.
 */
export class RetryWorker {
  private readonly consumer: Consumer;
  private readonly producers = new Map<number, Promise<Producer>>();
  private readonly topic: string;
  private readonly groupId: string;

  constructor(private readonly options: RetryWorkerOptions) {
    this.topic = options.retry.topics.sagaRetries[options.index] as string;
    this.groupId = `${options.groupPrefix}.saga.retry.${options.index}`;
    this.consumer = options.kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: 100,
      readUncommitted: false,
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return;
          const wait = this.waitFor(message);
          if (wait > 0) {
            // Not due yet (or the breaker is open): pause this partition, come back to this
            // message later. Nothing else of the saga waits meanwhile.
            const resume = pause();
            this.consumer.seek({
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
            });
            setTimeout(resume, Math.min(wait, 5000)).unref();
            return;
          }
          await this.retry(batch.partition, message);
          resolveOffset(message.offset);
          await heartbeat();
        }
      },
    });
  }

  /** How long `message` must still wait: until its not-before time, and while the breaker is open. */
  private waitFor(message: KafkaMessage): number {
    const due = Number(headerString(message.headers, RETRY_HEADERS.notBefore) ?? 0);
    return Math.max(due - Date.now(), this.options.breaker.blockedForMs());
  }

  private producerFor(partition: number): Promise<Producer> {
    let producer = this.producers.get(partition);
    if (!producer) {
      const p = this.options.kafka.producer({
        transactionalId: `${this.groupId}.${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
      });
      producer = p.connect().then(() => p);
      this.producers.set(partition, producer);
    }
    return producer;
  }

  private async retry(partition: number, message: KafkaMessage): Promise<void> {
    const outbox = new Outbox(this.options.retry, 'service:order-fulfilment-saga');
    let request: ReturnType<typeof decodePaymentRequest> | undefined;
    try {
      request = decodePaymentRequest(message.value);
    } catch (err) {
      this.options.logger.error(
        { err, partition, offset: message.offset },
        'unreadable payment retry skipped',
      );
    }
    if (request) {
      this.options.logger.debug(
        { orderId: request.orderId, attempt: request.attempt, topic: this.topic },
        'retrying payment call',
      );
      await settlePayment(request, this.options, outbox, request.orderId);
    }
    const producer = await this.producerFor(partition);
    await inTransaction(producer, async (tx) => {
      await outbox.send(tx);
      await tx.sendOffsets({
        consumerGroupId: this.groupId,
        topics: [
          {
            topic: this.topic,
            partitions: [{ partition, offset: String(BigInt(message.offset) + 1n) }],
          },
        ],
      });
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    for (const producer of this.producers.values()) await (await producer).disconnect();
  }
}
