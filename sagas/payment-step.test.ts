import { paymentIdempotencyKey, refundIdempotencyKey } from '../domain/fulfilment/actions';
import { createPaymentGateway, type PaymentGateway } from '../infra/payment-gateway/app';
import { behaviourFromConfig } from '../infra/payment-gateway/behaviour';
import { PaymentGatewayClient } from '../infra/payment-gateway/client';
import { loadConfig } from '../lib/config';
import { listen, type RunningServer } from '../lib/http/serve';
import { createLogger } from '../lib/logger';
import { CircuitBreaker } from './circuit-breaker';
import type { PaymentRequest } from './payment-request';
import { runPaymentStep } from './payment-step';

/** One gateway call of the saga against the gateway simulator, in this process. */
describe('runPaymentStep: void-payment', () => {
  let gateway: PaymentGateway;
  let server: RunningServer;
  let client: PaymentGatewayClient;
  let seq = 0;

  beforeAll(async () => {
    gateway = createPaymentGateway({
      logger: createLogger('test', 'silent'),
      behaviour: { ...behaviourFromConfig(loadConfig({}).paymentGateway), latencyMs: 0 },
      bodyLimit: '2kb',
      healthTimeoutMs: 100,
    });
    server = await listen(gateway.app, '127.0.0.1', 0);
    client = new PaymentGatewayClient(server.url, { timeoutMs: 2000 });
  });
  afterAll(async () => {
    gateway.stop();
    await server.close();
  });
  afterEach(() => {
    gateway.setBehaviour({ down: false });
  });

  const step = (request: PaymentRequest) =>
    runPaymentStep(request, client, new CircuitBreaker(5, 1000));
  const newOrder = () => `o-step-${++seq}`;
  const authorize = (orderId: string): PaymentRequest => ({
    kind: 'authorize-payment',
    orderId,
    customerId: 'c-1',
    amount: { amount: 1000, currency: 'EUR' },
    idempotencyKey: paymentIdempotencyKey(orderId),
    attempt: 1,
  });
  const voidIt = (orderId: string): PaymentRequest => ({
    kind: 'void-payment',
    orderId,
    idempotencyKey: paymentIdempotencyKey(orderId),
    attempt: 1,
  });

  it('voids the charge under the payment key: settled, nothing for the order to record', async () => {
    const orderId = newOrder();
    const authorized = await step(authorize(orderId));
    expect(authorized).toMatchObject({ kind: 'settled' });
    expect(await step(voidIt(orderId))).toEqual({ kind: 'settled', commands: [] });
    expect(gateway.ledger.list({ orderId }).map((r) => `${r.type}:${r.status}`)).toEqual([
      'authorization:authorized',
      'void:voided',
    ]);
  });

  it('an authorize retried after the void records a failure (voided), never an authorization', async () => {
    const orderId = newOrder();
    await step(voidIt(orderId));
    expect(await step(authorize(orderId))).toEqual({
      kind: 'settled',
      commands: [
        {
          commandId: `saga:${orderId}:payment`,
          command: { type: 'RecordPaymentFailed', orderId, reason: 'voided' },
        },
      ],
    });
  });

  it('a refund of the voided payment settles with nothing to do', async () => {
    const orderId = newOrder();
    await step(authorize(orderId));
    await step(voidIt(orderId));
    const paymentId = gateway.ledger.list({ orderId })[0]?.paymentId as string;
    const refund: PaymentRequest = {
      kind: 'refund-payment',
      orderId,
      paymentId,
      idempotencyKey: refundIdempotencyKey(orderId),
      attempt: 1,
    };
    expect(await step(refund)).toEqual({ kind: 'settled', commands: [] });
  });

  it('retries a void the gateway did not answer', async () => {
    gateway.setBehaviour({ down: true });
    expect(await step(voidIt(newOrder()))).toEqual({
      kind: 'retry',
      error: expect.stringMatching(/HTTP 503/),
      countsAsAttempt: true,
    });
  });
});
