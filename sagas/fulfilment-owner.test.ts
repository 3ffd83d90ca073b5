import type { OrderEvent } from '../domain';
import { loadConfig } from '../lib/config';
import { createKafkaClient, type OutgoingRecord } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import type { Decided, Entry } from '../lib/owned-partitions/partition-work';
import { topicNames } from '../lib/topics';
import { decodeCommand, encodeEvent } from '../schemas/codec';
import {
  consumed,
  startWatchedGateway,
  type WatchedGateway,
} from '../test/support/watched-gateway';
import { CircuitBreaker } from './circuit-breaker';
import { type DeadlineSweep, FulfilmentOwner } from './fulfilment-owner';
import { decodePaymentRequest } from './payment-request';

/**
 * One order-events partition's saga owner deciding batches, against the gateway simulator (no
 * broker: `decide` works in memory; the rebuild is the integration tests' business).
 */
describe('FulfilmentOwner', () => {
  const config = loadConfig({ TOPIC_PREFIX: 'unit' });
  const topics = topicNames(config.topics);
  const logger = createLogger('test', 'silent');
  let gateway: Awaited<ReturnType<typeof startWatchedGateway>>;
  let watched: WatchedGateway;
  let seq = 0;
  let offset = 0;

  beforeAll(async () => {
    gateway = await startWatchedGateway(30);
    watched = gateway.watched;
  });
  afterAll(() => gateway.stop());
  beforeEach(() => watched.reset());

  const owner = (deadlineMs = 60_000) =>
    new FulfilmentOwner({
      kafka: createKafkaClient(config), // only the rebuild would use it
      logger,
      groupId: 'unit.saga.fulfilment',
      ordersTopic: topics.orderEvents,
      partition: 0,
      retry: { delaysMs: [1000], topics },
      payments: { gateway: watched, breaker: new CircuitBreaker(5, 1000), logger },
      deadlineMs,
    });

  const newOrder = () => `o-saga-${++seq}`;
  const customerId = 'c-1';
  const placed = (orderId: string, products: string[]): OrderEvent => ({
    type: 'OrderPlaced',
    orderId,
    customerId,
    lines: products.map((productId) => ({
      productId,
      quantity: 1,
      unitPrice: { amount: 500, currency: 'EUR' },
    })),
    total: { amount: 500 * products.length, currency: 'EUR' },
  });
  const reserved = (orderId: string, productId: string): OrderEvent => ({
    type: 'OrderStockReserved',
    orderId,
    customerId,
    productId,
  });
  const cancelled = (orderId: string): OrderEvent => ({
    type: 'OrderCancelled',
    orderId,
    customerId,
    reason: 'changed my mind',
  });
  const event = (e: OrderEvent, occurredAt = Date.now()): Entry<DeadlineSweep> => {
    const { value, headers } = encodeEvent(e, {
      aggregateId: e.orderId,
      aggregateVersion: 1,
      commandId: `cmd-${offset}`,
      correlationId: `corr-${e.orderId}`,
      causationId: `cmd-${offset}`,
      occurredAt: new Date(occurredAt).toISOString(),
      actor: 'customer:c-1',
    });
    return { record: consumed(topics.orderEvents, offset++, value, headers, e.orderId) };
  };
  const sweep: Entry<DeadlineSweep> = { local: { kind: 'deadline-sweep' } };
  const commands = (records: OutgoingRecord[]) =>
    records
      .filter((r) => r.topic === topics.productCommands || r.topic === topics.orderCommands)
      .map((r) => {
        const { command, meta } = decodeCommand(r);
        expect(meta.requestHash).toBe(meta.commandId);
        expect(meta.replyRequired).toBeUndefined();
        return `${command.type} ${meta.commandId}`;
      });
  const commit = (decided: Decided<DeadlineSweep>) => {
    decided.committed([]);
    return decided;
  };

  it('reserves every line of a placed order, to the product commands, keyed by product', async () => {
    const orderId = newOrder();
    const decided = commit(await owner().decide([event(placed(orderId, ['p-1', 'p-2']))]));
    expect(decided.records.map((r) => [r.topic, r.key])).toEqual([
      [topics.productCommands, 'p-1'],
      [topics.productCommands, 'p-2'],
    ]);
    expect(commands(decided.records)).toEqual([
      `ReserveStock saga:${orderId}:reserve:p-1`,
      `ReserveStock saga:${orderId}:reserve:p-2`,
    ]);
  });

  it('authorizes the orders of a batch concurrently, one order’s calls in turn', async () => {
    const saga = owner();
    const [a, b, c] = [newOrder(), newOrder(), newOrder()];
    const batch = [a, b, c].flatMap((id) => [
      event(placed(id, ['p-1'])),
      event(reserved(id, 'p-1')),
    ]);
    // c is cancelled in the same batch: its authorize, then the void of it.
    batch.push(event(cancelled(c)));
    const decided = commit(await saga.decide(batch));
    expect(watched.maxInFlight).toBe(3);
    expect(watched.overlapped).toEqual(new Set());
    expect(commands(decided.records).filter((c) => !c.startsWith('ReserveStock'))).toEqual(
      expect.arrayContaining([
        `RecordPaymentAuthorized saga:${a}:payment`,
        `RecordPaymentAuthorized saga:${b}:payment`,
        `RecordPaymentAuthorized saga:${c}:payment`,
        `ReleaseReservation saga:${c}:release:p-1`,
      ]),
    );
    expect(gateway.simulator.ledger.list({ orderId: c }).map((r) => r.type)).toEqual([
      'authorization',
      'void',
    ]);
  });

  it('keeps a batch’s orders only once it committed', async () => {
    const saga = owner();
    const orderId = newOrder();
    const first = await saga.decide([event(placed(orderId, ['p-1']))]);
    first.failed(new Error('transaction aborted'));
    // The rebuild would fold OrderPlaced from the log; without it the order is unknown here.
    const unknown = await saga.decide([event(reserved(orderId, 'p-1'))]);
    expect(unknown.records).toEqual([]);
    commit(await saga.decide([event(placed(orderId, ['p-1']))]));
    const known = commit(await saga.decide([event(reserved(orderId, 'p-1'))]));
    expect(commands(known.records)).toEqual([`RecordPaymentAuthorized saga:${orderId}:payment`]);
  });

  it('a payment call that does not settle goes to the first retry topic', async () => {
    gateway.simulator.setBehaviour({ down: true });
    try {
      const orderId = newOrder();
      const decided = commit(
        await owner().decide([event(placed(orderId, ['p-1'])), event(reserved(orderId, 'p-1'))]),
      );
      const retried = decided.records.find((r) => r.topic === topics.sagaRetries[0]);
      expect(decodePaymentRequest(retried?.value ?? null)).toMatchObject({
        kind: 'authorize-payment',
        orderId,
        attempt: 2,
      });
    } finally {
      gateway.simulator.setBehaviour({ down: false });
    }
  });

  it('the deadline sweep cancels an order left pending past its deadline, once', async () => {
    const deadlineMs = 2000;
    const saga = owner(deadlineMs);
    const [late, fresh] = [newOrder(), newOrder()];
    // Placed long enough ago to be overdue at the sweep, not yet when it was reacted to.
    commit(await saga.decide([event(placed(late, ['p-1']), Date.now() - deadlineMs + 300)]));
    commit(await saga.decide([event(placed(fresh, ['p-1']))]));
    await new Promise((resolve) => setTimeout(resolve, 400));
    const swept = commit(await saga.decide([sweep]));
    expect(commands(swept.records)).toEqual([`CancelOrder saga:${late}:deadline`]);
    const again = commit(await saga.decide([sweep]));
    expect(again.records).toEqual([]);
  });
});
