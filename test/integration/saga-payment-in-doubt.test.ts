import { paymentOutcomeCommandId } from '../../domain/fulfilment/actions';
import type { PaymentRecord } from '../../infra/payment-gateway/ledger';
import { call, isolatedConfig, tokenFor } from '../support/command-api';
import { SagaHarness, typesOf } from '../support/saga-harness';
import { eventually, runCli } from '../support/test-env';

// Whole flows through several processes, waiting out a deadline and retry delays.
jest.setTimeout(300_000);

/**
 * A cancelled order whose payment is in doubt (the gateway charged, but its answer was lost)
 * gets its charge voided by the saga, with no operator action; real broker, command service,
 * gateway simulator and saga process.
 */
describe('order fulfilment saga: a cancelled order with its payment in doubt', () => {
  let h: SagaHarness;

  beforeAll(async () => {
    const config = await isolatedConfig(
      'saga-in-doubt',
      {
        // Three authorize attempts; the last one long after the first two, so a cancel can come
        // while it waits in a retry topic. The deadline passes after it was dead-lettered.
        SAGA_RETRY_DELAYS_MS: '100,8000',
        SAGA_DEADLINE_MS: '15000',
        SAGA_GATEWAY_TIMEOUT_MS: '2000',
        // Every call times out here: keep the breaker out of the way.
        SAGA_BREAKER_THRESHOLD: '1000',
        COMMAND_TIMEOUT_MS: '30000',
      },
      { stores: true },
    );
    h = new SagaHarness(config);
    await h.start();
    await h.startSaga();
  });
  afterAll(() => h.stop());
  afterEach(() => {
    h.gateway.setBehaviour({ timeoutRate: 0, timeoutAfterCharge: false });
  });

  /** The gateway charges, then hangs and answers 504: the saga never learns it charged. */
  const chargeButLoseEveryAnswer = () =>
    h.gateway.setBehaviour({ timeoutRate: 1, timeoutAfterCharge: true, timeoutHangMs: 100 });

  /** The gateway's ledger for the order, as its API lists it. */
  async function paymentsOf(orderId: string): Promise<PaymentRecord[]> {
    const res = await fetch(
      `${h.gatewayServer.url}/payments?orderId=${encodeURIComponent(orderId)}`,
    );
    return ((await res.json()) as { items: PaymentRecord[] }).items;
  }
  const summary = (records: PaymentRecord[]) => records.map((r) => `${r.type}:${r.status}`);
  const voided = (records: PaymentRecord[]) => summary(records).includes('void:voided');

  /** The charge and what gave it back: the authorization, then a void returning its amount. */
  function expectChargeVoided(records: PaymentRecord[]): void {
    expect(summary(records)).toEqual(['authorization:authorized', 'void:voided']);
    const [authorization, voiding] = records;
    expect(voiding).toMatchObject({
      paymentId: authorization?.paymentId,
      idempotencyKey: authorization?.idempotencyKey,
      amount: authorization?.amount,
    });
  }

  it('deadline: the authorize call dead-lettered, the deadline cancels the order and voids the charge — no dlq redrive', async () => {
    chargeButLoseEveryAnswer();
    const productId = await h.createProduct(10, 'DOUBT-DEADLINE');
    const orderId = await h.placeOrder('doubt-deadline', productId, 1);

    // Every attempt charged (once, by key) and lost its answer: the call ends dead-lettered.
    const env = h.sagaEnv();
    const listed = await eventually(
      () => runCli(['dlq', 'list'], env),
      (r) => r.stdout.includes(`authorize-payment order ${orderId}`),
      60_000,
    );
    expect(listed.stdout).toMatch(
      new RegExp(`authorize-payment order ${orderId} .* after 3 attempts`),
    );

    const byOrder = await h.settled([orderId], 60_000);
    const events = byOrder.get(orderId) ?? [];
    expect(events.find((e) => e.type === 'OrderCancelled')?.data.reason).toMatch(
      /^deadline passed/,
    );
    expect(typesOf(events)).not.toContain('OrderPaymentAuthorized');

    expectChargeVoided(await eventually(() => paymentsOf(orderId), voided, 60_000));
  });

  it('customer cancel while the authorize call waits to be retried: the charge is voided, and the late retry is declined', async () => {
    chargeButLoseEveryAnswer();
    const productId = await h.createProduct(10, 'DOUBT-CANCEL');
    const orderId = await h.placeOrder('doubt-cancel', productId, 1);
    const charged = await eventually(
      () => paymentsOf(orderId),
      (records) => records.length > 0,
      60_000,
    );
    expect(summary(charged)).toEqual(['authorization:authorized']);

    const token = await tokenFor(h.config, 'customer', 'doubt-cancel');
    const cancel = await call(h.commands.url, 'POST', `/orders/${orderId}/cancel`, {
      token,
      body: { reason: 'changed my mind' },
    });
    expect(cancel.status).toBe(200);
    expectChargeVoided(await eventually(() => paymentsOf(orderId), voided, 60_000));

    // The gateway answers again: the authorize retry still waiting gets a decline (its key is
    // voided), which the cancelled order refuses to record. Nothing is charged again.
    h.gateway.setBehaviour({ timeoutRate: 0 });
    const replies = await eventually(
      () => h.orderReplies(),
      (all) => all.some((r) => r.commandId === paymentOutcomeCommandId(orderId)),
      60_000,
    );
    expect(replies.filter((r) => r.commandId === paymentOutcomeCommandId(orderId))).toEqual([
      expect.objectContaining({
        commandType: 'RecordPaymentFailed',
        outcome: expect.objectContaining({ status: 'rejected' }),
      }),
    ]);
    expectChargeVoided(await paymentsOf(orderId));
    expect(typesOf((await h.settled([orderId])).get(orderId))).toEqual([
      'OrderPlaced',
      'OrderStockReserved',
      'OrderCancelled',
    ]);
  });
});
