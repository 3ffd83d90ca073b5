import { Redis } from 'ioredis';
import { Client } from 'pg';
import { paymentOutcomeCommandId, stockOutcomeCommandId } from '../../domain/fulfilment/actions';
import type { Config } from '../../lib/config';
import { ShardingRing } from '../../lib/sharding-ring';
import { call, isolatedConfig, tokenFor } from '../support/command-api';
import { SagaHarness, typesOf } from '../support/saga-harness';
import { eventually, runCli } from '../support/test-env';

// Whole flows through several processes: slower than the default test timeout on a busy machine.
jest.setTimeout(300_000);

/** The order-fulfilment saga with the real broker, Postgres, Redis, gateway and a saga process. */
describe('order fulfilment saga', () => {
  let config: Config;
  let h: SagaHarness;

  beforeAll(async () => {
    config = await isolatedConfig(
      'sagas',
      {
        // 8 attempts: with 30% transient failures, an order exhausting them all is ~1 in 15,000.
        SAGA_RETRY_DELAYS_MS: '100,150,200,250,300,350,400',
        SAGA_BREAKER_COOLDOWN_MS: '300',
        SAGA_GATEWAY_TIMEOUT_MS: '1000',
        COMMAND_TIMEOUT_MS: '60000',
      },
      { stores: true },
    );
    h = new SagaHarness(config);
    await h.start();
    await h.startSaga();
  });
  afterAll(() => h.stop());

  it('happy path: the order ends confirmed by its payment, stock reduced by its lines, payment authorized once', async () => {
    const productId = await h.createProduct(10);
    const orderId = await h.placeOrder('happy', productId, 3);
    const byOrder = await h.settled([orderId]);
    const events = byOrder.get(orderId) ?? [];
    expect(typesOf(events)).toEqual(['OrderPlaced', 'OrderStockReserved', 'OrderConfirmed']);
    const stock = (await h.productEvents()).filter((e) => e.aggregateId === productId);
    expect(stock.at(-1)?.data.available).toBe(7);
    const payments = h.gateway.ledger.list({ orderId });
    const authorized = payments.filter(
      (p) => p.type === 'authorization' && p.status === 'authorized',
    );
    expect(authorized).toHaveLength(1);
    // The stock's word came from the product's log through the saga, the confirmation from
    // recording the payment: no ConfirmOrder, and the payment is on the OrderConfirmed.
    expect(events[1]?.commandId).toBe(stockOutcomeCommandId(orderId, productId));
    expect(events[2]).toMatchObject({
      commandId: paymentOutcomeCommandId(orderId),
      data: { paymentId: authorized[0]?.paymentId, amount: { amount: 3000, currency: 'EUR' } },
    });
  });

  it('flash sale: 100 units, 2,000 concurrent customers → exactly 100 confirmed, 1,900 cancelled out of stock, stock 0 everywhere', async () => {
    const productId = await h.createProduct(100, 'FLASH');
    const orderIds = await Promise.all(
      Array.from({ length: 2000 }, (_, i) => h.placeOrder(`fan-${i}`, productId, 1)),
    );
    const byOrder = await h.settled(orderIds, 240_000);
    const outcomes = orderIds.map((id) =>
      typesOf(byOrder.get(id)).filter((t) => t === 'OrderConfirmed' || t === 'OrderCancelled'),
    );
    expect(outcomes.filter((o) => o.length !== 1)).toEqual([]); // settled once, never twice
    const confirmed = orderIds.filter((id) => typesOf(byOrder.get(id)).includes('OrderConfirmed'));
    const cancelled = orderIds.filter((id) => typesOf(byOrder.get(id)).includes('OrderCancelled'));
    expect(confirmed).toHaveLength(100);
    expect(cancelled).toHaveLength(1900);
    for (const id of cancelled) {
      const events = byOrder.get(id) ?? [];
      expect(typesOf(events)).toEqual(['OrderPlaced', 'OrderStockRejected', 'OrderCancelled']);
      // The order cancelled itself on recording the refusal: no CancelOrder from the saga.
      const cancellation = events.find((e) => e.type === 'OrderCancelled');
      expect(cancellation?.data.reason).toMatch(/^out of stock/);
      expect(cancellation?.commandId).toBe(stockOutcomeCommandId(id, productId));
    }
    for (const id of confirmed)
      expect(byOrder.get(id)?.find((e) => e.type === 'OrderConfirmed')?.commandId).toBe(
        paymentOutcomeCommandId(id),
      );

    // Stock: 0 in the events, never below; 0 in the Postgres read model and in Redis.
    const stock = (await h.productEvents()).filter(
      (e) => e.aggregateId === productId && 'available' in e.data,
    );
    for (const e of stock) expect(Number(e.data.available)).toBeGreaterThanOrEqual(0);
    expect(stock.at(-1)?.data.available).toBe(0);
    const shard =
      config.postgres.shardUrls[
        new ShardingRing(config.postgres.shardUrls.length).shardFor(productId)
      ];
    const redis = new Redis(config.redis.url);
    const pg = new Client({ connectionString: shard });
    await pg.connect();
    try {
      const readModel = await eventually(
        async () =>
          (
            await pg.query('select available from read_model_g1.products where product_id = $1', [
              productId,
            ])
          ).rows[0]?.available,
        (available) => available === 0,
        30_000,
      );
      expect(readModel).toBe(0);
      const view = await eventually(
        () => redis.hget(`${config.redis.keyPrefix}views:g1:product:${productId}`, 'available'),
        (available) => available === '0',
        30_000,
      );
      expect(view).toBe('0');
    } finally {
      await pg.end();
      redis.disconnect();
    }

    // Nobody was charged for a cancelled order.
    for (const id of cancelled) {
      const charged = h.gateway.ledger
        .list({ orderId: id })
        .filter((p) => p.type === 'authorization' && p.status === 'authorized');
      const refunded = h.gateway.ledger.list({ orderId: id }).filter((p) => p.type === 'refund');
      expect(charged.length - refunded.length).toBe(0);
    }
  });

  it('payment failures: with 30% of gateway calls failing transiently every order settles, none twice', async () => {
    const productId = await h.createProduct(1000, 'FLAKY');
    h.gateway.setBehaviour({ failureRate: 0.3 });
    try {
      const orderIds = await Promise.all(
        Array.from({ length: 40 }, (_, i) => h.placeOrder(`flaky-${i}`, productId, 1)),
      );
      const byOrder = await h.settled(orderIds, 120_000);
      for (const id of orderIds) {
        const types = typesOf(byOrder.get(id));
        expect(types.filter((t) => t === 'OrderConfirmed' || t === 'OrderCancelled')).toHaveLength(
          1,
        );
        // Charged once, whatever was retried: the confirmation carries that payment.
        const charged = h.gateway.ledger
          .list({ orderId: id })
          .filter((p) => p.type === 'authorization' && p.status === 'authorized');
        expect(charged).toHaveLength(1);
        expect(byOrder.get(id)?.find((e) => e.type === 'OrderConfirmed')?.data.paymentId).toBe(
          charged[0]?.paymentId,
        );
      }
      // Transient failures were retried, not turned into cancellations.
      expect(
        orderIds.filter((id) => typesOf(byOrder.get(id)).includes('OrderConfirmed')),
      ).toHaveLength(40);
    } finally {
      h.gateway.setBehaviour({ failureRate: 0 });
    }
  });

  it('gateway down past the last retry: orders land in the dead-letter queue, and redrive settles them', async () => {
    const productId = await h.createProduct(100, 'DOWN');
    h.gateway.setBehaviour({ down: true });
    const orderIds = await Promise.all(
      Array.from({ length: 5 }, (_, i) => h.placeOrder(`down-${i}`, productId, 1)),
    );
    const env = h.sagaEnv();
    const listed = await eventually(
      () => runCli(['dlq', 'list'], env),
      (r) => orderIds.every((id) => r.stdout.includes(id)),
      60_000,
    );
    const ours = listed.stdout
      .split('\n')
      .filter((line) => orderIds.some((id) => line.includes(id)));
    expect(ours).toHaveLength(5);
    for (const line of ours)
      expect(line).toMatch(/authorize-payment order .* after 8 attempts: HTTP 503/);

    h.gateway.setBehaviour({ down: false });
    const redrive = await runCli(['dlq', 'redrive', '--all'], env);
    expect(redrive.stdout).toContain('redriven: 5');
    const byOrder = await h.settled(orderIds, 60_000);
    for (const id of orderIds) expect(typesOf(byOrder.get(id))).toContain('OrderConfirmed');
    const after = (await runCli(['dlq', 'list'], env)).stdout;
    for (const id of orderIds) expect(after).not.toContain(id);
  });

  it('crash: SIGKILL the saga mid-load and restart it → no order stuck, no command applied twice', async () => {
    const productId = await h.createProduct(1000, 'CRASH');
    const orderIds = await Promise.all(
      Array.from({ length: 80 }, (_, i) => h.placeOrder(`crash-${i}`, productId, 1)),
    );
    // Kill it while it is part-way through.
    const [running] = h.sagas;
    await eventually(
      async () =>
        (await h.orderEvents()).filter(
          (e) => e.type === 'OrderConfirmed' && orderIds.includes(e.aggregateId),
        ).length,
      (n) => n > 10,
      60_000,
    );
    await running?.kill('SIGKILL');
    await h.startSaga();
    const byOrder = await h.settled(orderIds, 240_000);
    for (const id of orderIds) {
      const types = typesOf(byOrder.get(id));
      // Every event once: a command emitted twice would show as a second event (or be absorbed).
      expect(new Set(types).size).toBe(types.length);
      expect(types).toContain('OrderConfirmed');
    }
    const reserved = (await h.productEvents()).filter(
      (e) => e.aggregateId === productId && e.type === 'StockReserved',
    );
    expect(reserved).toHaveLength(80);
    expect(new Set(reserved.map((e) => e.data.orderId)).size).toBe(80);
    const authorized = orderIds.flatMap((id) =>
      h.gateway.ledger
        .list({ orderId: id })
        .filter((p) => p.type === 'authorization' && p.status === 'authorized'),
    );
    expect(authorized).toHaveLength(80);
  });
});

/** Deadlines hold even when no saga runs while they pass. */
describe('order deadline', () => {
  let h: SagaHarness;

  beforeAll(async () => {
    const config = await isolatedConfig(
      'saga-deadline',
      { SAGA_DEADLINE_MS: '2000', SAGA_RETRY_DELAYS_MS: '200', COMMAND_TIMEOUT_MS: '30000' },
      { stores: true },
    );
    h = new SagaHarness(config);
    await h.start();
  });
  afterAll(() => h.stop());

  it('orders placed while the saga is down are cancelled once it starts after the deadline, stock released', async () => {
    const productId = await h.createProduct(10, 'LATE');
    // Reserved stock must come back too: this order's line is reserved by hand before the saga runs.
    const orderIds = await Promise.all(
      Array.from({ length: 3 }, (_, i) => h.placeOrder(`late-${i}`, productId, 2)),
    );
    const service = await tokenFor(h.config, 'service', 'ops');
    const reserve = await call(h.commands.url, 'POST', `/products/${productId}/reservations`, {
      token: service,
      body: { orderId: orderIds[0], quantity: 2 },
    });
    expect(reserve.body.events).toEqual([
      expect.objectContaining({
        type: 'StockReserved',
        data: expect.objectContaining({ available: 8 }),
      }),
    ]);

    await new Promise((resolve) => setTimeout(resolve, 2500)); // past the deadline, no saga running
    await h.startSaga();
    const byOrder = await h.settled(orderIds, 60_000);
    for (const id of orderIds) {
      const cancelled = byOrder.get(id)?.find((e) => e.type === 'OrderCancelled');
      expect(cancelled?.data.reason).toMatch(/^deadline passed/);
      expect(typesOf(byOrder.get(id))).not.toContain('OrderStockReserved');
    }
    const stock = await eventually(
      async () =>
        (await h.productEvents())
          .filter((e) => e.aggregateId === productId && 'available' in e.data)
          .at(-1)?.data.available,
      (available) => available === 10,
      30_000,
    );
    expect(stock).toBe(10);
  });
});
