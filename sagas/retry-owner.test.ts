import { paymentIdempotencyKey } from '../domain/fulfilment/actions';
import { loadConfig } from '../lib/config';
import type { OutgoingRecord } from '../lib/kafka';
import { createLogger } from '../lib/logger';
import type { Entry } from '../lib/owned-partitions/partition-work';
import { topicNames } from '../lib/topics';
import { decodeCommand } from '../schemas/codec';
import {
  consumed,
  startWatchedGateway,
  type WatchedGateway,
} from '../test/support/watched-gateway';
import { CircuitBreaker } from './circuit-breaker';
import {
  decodePaymentRequest,
  encodePaymentRequest,
  type PaymentRequest,
  RETRY_HEADERS,
} from './payment-request';
import { RetryOwner } from './retry-owner';

/** One retry-topic partition's owner deciding batches, against the gateway simulator. */
describe('RetryOwner', () => {
  const topics = topicNames(loadConfig({ TOPIC_PREFIX: 'unit' }).topics);
  const retry = { delaysMs: [1000, 10_000, 60_000], topics };
  const logger = createLogger('test', 'silent');
  let gateway: Awaited<ReturnType<typeof startWatchedGateway>>;
  let watched: WatchedGateway;
  let seq = 0;

  beforeAll(async () => {
    gateway = await startWatchedGateway(30);
    watched = gateway.watched;
  });
  afterAll(() => gateway.stop());
  beforeEach(() => {
    watched.reset();
    gateway.simulator.setBehaviour({ down: false });
  });

  const owner = (breaker = new CircuitBreaker(5, 1000)) =>
    new RetryOwner({ logger, retry, payments: { gateway: watched, breaker, logger } });
  const newOrder = () => `o-retry-${++seq}`;
  const authorize = (orderId: string, attempt = 2): PaymentRequest => ({
    kind: 'authorize-payment',
    orderId,
    customerId: 'c-1',
    amount: { amount: 1000, currency: 'EUR' },
    idempotencyKey: paymentIdempotencyKey(orderId),
    attempt,
  });
  let offset = 0;
  const waiting = (request: PaymentRequest, notBefore: number): Entry<never> => ({
    record: consumed(
      topics.sagaRetries[0] as string,
      offset++,
      encodePaymentRequest(request),
      { [RETRY_HEADERS.notBefore]: String(notBefore) },
      request.orderId,
    ),
  });
  const commandsOf = (records: OutgoingRecord[]) =>
    records.filter((r) => r.topic === topics.orderCommands).map((r) => decodeCommand(r));

  it('settles the due prefix with its calls at once and leaves the rest for when the first is due', async () => {
    const now = Date.now();
    const [a, b, c, d] = [newOrder(), newOrder(), newOrder(), newOrder()];
    const entries = [
      waiting(authorize(a), now - 100),
      waiting(authorize(b), now - 50),
      waiting(authorize(c), now + 60_000),
      waiting(authorize(d), now - 10), // behind one not due: waits with it
    ];
    const decided = await owner().decide(entries);
    expect(decided.later).toHaveLength(2);
    expect(decided.later?.[0]).toBe(entries[2]);
    expect(decided.later?.[1]).toBe(entries[3]);
    expect(decided.laterAt).toBe(now + 60_000);
    expect(watched.maxInFlight).toBe(2);
    expect(decided.records.map((r) => r.topic)).toEqual([
      topics.orderCommands,
      topics.orderCommands,
    ]);
    for (const r of decided.records) {
      // Its own id as request hash, no reply asked for: the order's events tell the outcome.
      const { command, meta } = decodeCommand(r);
      expect(command.type).toBe('RecordPaymentAuthorized');
      expect(meta).toMatchObject({ commandId: `saga:${command.orderId}:payment` });
      expect(meta.requestHash).toBe(meta.commandId);
      expect(meta.replyRequired).toBeUndefined();
    }
    expect(new Set(decided.records.map((r) => r.key))).toEqual(new Set([a, b]));
    expect(gateway.simulator.ledger.list({ orderId: c })).toEqual([]);
    expect(gateway.simulator.ledger.list({ orderId: d })).toEqual([]);
  });

  it('calls nothing while the breaker is open: the whole batch waits until it may', async () => {
    let clock = 1_000_000;
    const breaker = new CircuitBreaker(1, 60_000, () => clock);
    breaker.failed();
    const entries = [waiting(authorize(newOrder()), 0), waiting(authorize(newOrder()), 0)];
    const before = Date.now();
    const decided = await owner(breaker).decide(entries);
    expect(decided.records).toEqual([]);
    expect(decided.later).toEqual(entries);
    expect(decided.laterAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(watched.maxInFlight).toBe(0);

    // Half-open: one trial call, the rest right after it.
    clock += 60_000;
    const trial = await owner(breaker).decide(entries);
    expect(watched.maxInFlight).toBe(1);
    expect(commandsOf(trial.records).map((c) => c.command.type)).toEqual([
      'RecordPaymentAuthorized',
    ]);
    expect(trial.later).toEqual([entries[1]]);
    expect(trial.laterAt).toBeLessThanOrEqual(Date.now());
    expect(breaker.state).toBe('closed');
  });

  it('a failed call goes to the next delay topic, the last attempt to the dead letters', async () => {
    gateway.simulator.setBehaviour({ down: true });
    const [early, last] = [newOrder(), newOrder()];
    const decided = await owner().decide([
      waiting(authorize(early, 2), 0),
      waiting(authorize(last, 4), 0),
    ]);
    const byKey = new Map(decided.records.map((r) => [r.key, r]));
    const retried = byKey.get(early);
    expect(retried?.topic).toBe(topics.sagaRetries[1]);
    expect(decodePaymentRequest(retried?.value ?? null)).toMatchObject({ attempt: 3 });
    expect(Number(retried?.headers?.[RETRY_HEADERS.notBefore])).toBeGreaterThan(Date.now());
    const dead = byKey.get(last);
    expect(dead?.topic).toBe(topics.sagaDeadLetter);
    expect(dead?.headers).toMatchObject({ 'dlq-attempts': '4' });
  });

  it('an entry that keeps failing is dead-lettered; an unreadable one passed over', () => {
    const orderId = newOrder();
    const poisoned = owner().poison(waiting(authorize(orderId), 0), new Error('boom'));
    expect(poisoned.records).toEqual([
      expect.objectContaining({ topic: topics.sagaDeadLetter, key: orderId }),
    ]);
    const unreadable = owner().poison(
      { record: consumed(topics.sagaRetries[0] as string, offset++, Buffer.from('{'), {}) },
      new Error('boom'),
    );
    expect(unreadable.records).toEqual([]);
  });
});
