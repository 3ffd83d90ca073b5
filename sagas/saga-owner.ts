import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { replayPartitions } from '../command-api/processor/replay';
import { evolveOrder, initialOrderState, type OrderEvent } from '../domain';
import type { FulfilmentAction } from '../domain/fulfilment/actions';
import { overdueOrders, reactToOrderEvent, type TrackedOrder } from '../domain/fulfilment/saga';
import { inTransaction } from '../lib/kafka';
import type { Logger } from '../lib/logger';
import { decodeEvent } from '../schemas/codec';
import type { CircuitBreaker } from './circuit-breaker';
import { Outbox, type RetryPolicy } from './outbox';
import type { PaymentRequest } from './payment-request';
import { type PaymentGateway, runPaymentStep } from './payment-step';

export interface SagaOwnerOptions {
  kafka: Kafka;
  logger: Logger;
  groupId: string;
  transactionalIdPrefix: string;
  ordersTopic: string;
  retry: RetryPolicy;
  gateway: PaymentGateway;
  breaker: CircuitBreaker;
  deadlineMs: number;
}

const ACTOR = 'service:order-fulfilment-saga';

/**
 * The fulfilment saga for the orders of one partition of the order events (DESIGN §6): holds
 * each order's state (folded from its events, rebuilt on assignment up to the group's
 * committed offset), reacts to each new event with the pure saga of domain/fulfilment, and
 * writes the commands, retries and consumed offset in one Kafka transaction.
 */
export class SagaOwner {
  private readonly orders = new Map<string, TrackedOrder>();
  /** Orders whose deadline cancellation this process already sent (the command id is stable). */
  private readonly deadlineSent = new Set<string>();
  private producer: Producer | undefined;
  /** Reactions and deadline sweeps take turns: a producer runs one transaction at a time. */
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly partition: number,
    private readonly options: SagaOwnerOptions,
  ) {}

  /** Fences a previous owner, then folds the events the group has already reacted to. */
  async start(committed: bigint | undefined, heartbeat: () => Promise<void>): Promise<void> {
    const { kafka, ordersTopic, transactionalIdPrefix } = this.options;
    this.producer = kafka.producer({
      transactionalId: `${transactionalIdPrefix}.${this.partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await this.producer.connect();
    await (await this.producer.transaction()).abort();
    const until = new Map([[`${ordersTopic}#${this.partition}`, committed ?? 0n]]);
    const folded = await replayPartitions(
      kafka,
      this.options.groupId,
      [{ topic: ordersTopic, partition: this.partition }],
      (_ref, message) => {
        this.fold(message);
      },
      heartbeat,
      until,
    );
    this.options.logger.info(
      { partition: this.partition, folded, orders: this.orders.size },
      'saga owner ready',
    );
  }

  /** Applies an order event to the order's state; returns the states before and after. */
  private fold(
    message: KafkaMessage,
    into = this.orders,
  ): {
    event: OrderEvent;
    before: TrackedOrder;
    after: TrackedOrder;
    occurredAt: number;
    correlationId: string;
  } {
    const { event, meta } = decodeEvent<OrderEvent>(message);
    const occurredAt = Date.parse(meta.occurredAt);
    const before = into.get(event.orderId) ??
      this.orders.get(event.orderId) ?? { state: initialOrderState, placedAt: occurredAt };
    const after = {
      state: evolveOrder(before.state, event),
      placedAt: event.type === 'OrderPlaced' ? occurredAt : before.placedAt,
    };
    into.set(event.orderId, after);
    return { event, before, after, occurredAt, correlationId: meta.correlationId };
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turn.then(work, work);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** Reacts to consecutive order events of this partition and commits through `lastOffset`. */
  handle(messages: KafkaMessage[], lastOffset: string): Promise<void> {
    return this.exclusive(() => this.react(messages, lastOffset));
  }

  private async react(messages: KafkaMessage[], lastOffset: string): Promise<void> {
    const producer = this.requireProducer();
    const changed = new Map<string, TrackedOrder>();
    const outbox = new Outbox(this.options.retry, ACTOR);
    for (const message of messages) {
      const { event, before, after, occurredAt, correlationId } = this.fold(message, changed);
      const actions = reactToOrderEvent({
        before: before.state,
        after: after.state,
        event,
        occurredAt,
        now: Date.now(),
        deadlineMs: this.options.deadlineMs,
      });
      for (const action of actions) await this.carryOut(action, outbox, correlationId);
    }
    await inTransaction(producer, async (tx) => {
      await outbox.send(tx);
      await tx.sendOffsets({
        consumerGroupId: this.options.groupId,
        topics: [
          {
            topic: this.options.ordersTopic,
            partitions: [{ partition: this.partition, offset: String(BigInt(lastOffset) + 1n) }],
          },
        ],
      });
    });
    for (const [orderId, order] of changed) this.orders.set(orderId, order);
  }

  private async carryOut(
    action: FulfilmentAction,
    outbox: Outbox,
    correlationId: string,
  ): Promise<void> {
    if (action.kind === 'command') {
      const aggregateId =
        action.aggregate === 'product' ? action.command.productId : action.command.orderId;
      outbox.command(
        action.aggregate,
        aggregateId,
        action.commandId,
        action.command,
        correlationId,
        'notifyOrder' in action && action.notifyOrder === true,
      );
      return;
    }
    await settlePayment(paymentRequest(action), this.options, outbox, correlationId);
  }

  /** Cancels the pending orders past their deadline (also those whose deadline passed while no saga ran). */
  sweepDeadlines(now = Date.now()): Promise<number> {
    return this.exclusive(() => this.cancelOverdue(now));
  }

  private async cancelOverdue(now: number): Promise<number> {
    const overdue = overdueOrders(this.orders, now, this.options.deadlineMs).filter(
      (a) => !this.deadlineSent.has(a.command.orderId),
    );
    if (overdue.length === 0) return 0;
    const outbox = new Outbox(this.options.retry, ACTOR);
    for (const a of overdue)
      outbox.command('order', a.command.orderId, a.commandId, a.command, a.commandId);
    await inTransaction(this.requireProducer(), (tx) => outbox.send(tx));
    for (const a of overdue) this.deadlineSent.add(a.command.orderId);
    this.options.logger.info(
      { partition: this.partition, cancelled: overdue.length },
      'orders past their deadline cancelled',
    );
    return overdue.length;
  }

  private requireProducer(): Producer {
    if (!this.producer) throw new Error(`saga owner of partition ${this.partition} is stopped`);
    return this.producer;
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}

/** A gateway call the saga asks for, as its first attempt. */
function paymentRequest(action: Exclude<FulfilmentAction, { kind: 'command' }>): PaymentRequest {
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

/** Calls the gateway once; records the outcome as order commands, or schedules a retry / dead letter. */
export async function settlePayment(
  request: PaymentRequest,
  options: Pick<SagaOwnerOptions, 'gateway' | 'breaker' | 'logger'>,
  outbox: Outbox,
  correlationId: string,
): Promise<void> {
  const result = await runPaymentStep(request, options.gateway, options.breaker);
  if (result.kind === 'settled') {
    for (const c of result.commands)
      outbox.command('order', c.command.orderId, c.commandId, c.command, correlationId);
    return;
  }
  const route = outbox.retryLater(request, result);
  options.logger.warn(
    { orderId: request.orderId, attempt: request.attempt, error: result.error, route },
    'payment call did not settle',
  );
}
