import { createPaymentGateway, type PaymentGateway } from '../../infra/payment-gateway/app';
import { type Behaviour, behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import {
  type AuthorizeRequest,
  PaymentGatewayClient,
  PaymentGatewayError,
} from '../../infra/payment-gateway/client';
import type { PaymentRecord } from '../../infra/payment-gateway/ledger';
import { loadConfig } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { silentLogger } from '../support/test-env';

/** `POST /payments/void`: cancelling an authorization by its idempotency key, over HTTP. */

const BASE: Behaviour = {
  ...behaviourFromConfig(loadConfig({}).paymentGateway),
  latencyMs: 0,
};

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

function authorizeRequest(): AuthorizeRequest {
  const orderId = unique('order');
  return {
    idempotencyKey: `pay:${orderId}`,
    orderId,
    customerId: 'c-42',
    amount: { amount: 2598, currency: 'EUR' },
  };
}

describe('payment gateway simulator: void', () => {
  let gateway: PaymentGateway;
  let server: RunningServer;

  beforeAll(async () => {
    gateway = createPaymentGateway({
      logger: silentLogger(),
      behaviour: BASE,
      bodyLimit: '2kb',
      healthTimeoutMs: 100,
    });
    server = await listen(gateway.app, '127.0.0.1', 0);
  });
  afterAll(async () => {
    gateway.stop();
    await server.close();
  });
  beforeEach(async () => {
    expect((await fetch(`${server.url}/admin/behaviour`, { method: 'DELETE' })).status).toBe(200);
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const authorize = (body: AuthorizeRequest) => post('/payments/authorize', body);
  const voidKey = (idempotencyKey: string) => post('/payments/void', { idempotencyKey });
  const refund = (paymentId: string) =>
    post('/payments/refund', { idempotencyKey: unique('refund'), paymentId });
  const behave = (patch: Partial<Behaviour>) =>
    fetch(`${server.url}/admin/behaviour`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
  const records = async (query: string): Promise<PaymentRecord[]> =>
    ((await (await fetch(`${server.url}/payments?${query}`)).json()) as { items: PaymentRecord[] })
      .items;
  const recordsOf = (orderId: string) => records(`orderId=${encodeURIComponent(orderId)}`);
  const summary = (list: PaymentRecord[]) => list.map((r) => `${r.type}:${r.status}`);
  const client = () => new PaymentGatewayClient(server.url, { timeoutMs: 2000 });

  it('void after authorize: gives the charge back, and the key answers declined (voided) from then on', async () => {
    const request = authorizeRequest();
    const { body: charged } = await authorize(request);
    const voided = await voidKey(request.idempotencyKey);
    expect(voided).toEqual({
      status: 200,
      body: {
        voidId: expect.stringMatching(/^void_/),
        status: 'voided',
        idempotencyKey: request.idempotencyKey,
        paymentId: charged.paymentId,
        orderId: request.orderId,
        amount: request.amount,
      },
    });
    expect(await recordsOf(request.orderId)).toEqual([
      expect.objectContaining({ type: 'authorization', status: 'authorized' }),
      expect.objectContaining({
        type: 'void',
        status: 'voided',
        paymentId: charged.paymentId,
        amount: request.amount,
      }),
    ]);

    // A late retry of the authorize gets a decline, not the charge.
    expect(await authorize(request)).toEqual({
      status: 402,
      body: {
        status: 'declined',
        reason: 'voided',
        paymentId: charged.paymentId,
        orderId: request.orderId,
        amount: request.amount,
      },
    });
    // Nothing left to refund: the void gave it back.
    const refunded = await refund(charged.paymentId as string);
    expect(refunded).toMatchObject({ status: 409, body: { code: 'payment_voided' } });
    expect(summary(await recordsOf(request.orderId))).toEqual([
      'authorization:authorized',
      'void:voided',
    ]);
  });

  it('void before authorize: the key is voided, and an authorize arriving later is declined', async () => {
    const request = authorizeRequest();
    const voided = await voidKey(request.idempotencyKey);
    expect(voided).toMatchObject({
      status: 200,
      body: {
        status: 'voided',
        idempotencyKey: request.idempotencyKey,
        paymentId: null,
        orderId: null,
        amount: null,
      },
    });
    // Listed among all records (no order known yet), not charged.
    expect(await records('limit=1000')).toContainEqual(
      expect.objectContaining({ type: 'void', idempotencyKey: request.idempotencyKey }),
    );

    const late = await authorize(request);
    expect(late).toMatchObject({
      status: 402,
      body: { status: 'declined', reason: 'voided', orderId: request.orderId },
    });
    expect(await recordsOf(request.orderId)).toEqual([
      expect.objectContaining({ type: 'authorization', status: 'declined', reason: 'voided' }),
    ]);
    expect(await authorize(request)).toEqual(late);
  });

  it('a repeated void is idempotent: the same answer, nothing given back twice', async () => {
    const request = authorizeRequest();
    await authorize(request);
    const first = await voidKey(request.idempotencyKey);
    const again = await Promise.all([
      voidKey(request.idempotencyKey),
      voidKey(request.idempotencyKey),
    ]);
    for (const answer of again) expect(answer).toEqual(first);
    expect(summary(await recordsOf(request.orderId))).toEqual([
      'authorization:authorized',
      'void:voided',
    ]);

    const early = authorizeRequest();
    const before = await voidKey(early.idempotencyKey);
    expect(await voidKey(early.idempotencyKey)).toEqual(before);
  });

  it('gives nothing back for a payment refunded or declined already, and still declines the key', async () => {
    const request = authorizeRequest();
    const { body: charged } = await authorize(request);
    expect((await refund(charged.paymentId as string)).status).toBe(200);
    const voided = await voidKey(request.idempotencyKey);
    expect(voided.body).toMatchObject({ paymentId: charged.paymentId, amount: null });
    expect(await authorize(request)).toMatchObject({ status: 402, body: { reason: 'voided' } });

    await behave({ declineCustomers: ['c-broke'] });
    const broke = { ...authorizeRequest(), customerId: 'c-broke' };
    expect((await authorize(broke)).status).toBe(402);
    expect((await voidKey(broke.idempotencyKey)).body).toMatchObject({ amount: null });
    expect(await authorize(broke)).toMatchObject({
      status: 402,
      body: { reason: 'card_declined' },
    });
  });

  it('timeoutAfterCharge: the void is done though its answer is lost; a retry gets it', async () => {
    const request = authorizeRequest();
    await authorize(request);
    await behave({ timeoutRate: 1, timeoutHangMs: 50, timeoutAfterCharge: true });
    expect((await voidKey(request.idempotencyKey)).status).toBe(504);
    expect(summary(await recordsOf(request.orderId))).toEqual([
      'authorization:authorized',
      'void:voided',
    ]);
    await behave({ timeoutRate: 0 });
    expect(await voidKey(request.idempotencyKey)).toMatchObject({
      status: 200,
      body: { status: 'voided' },
    });
  });

  it('answers bad input with a 400 naming the field, and a refund key with 422', async () => {
    const bad = await post('/payments/void', { idempotencyKey: '', extra: 1 });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
      'extra',
      'idempotencyKey',
    ]);

    const request = authorizeRequest();
    const { body: charged } = await authorize(request);
    const refundKey = unique('refund');
    await post('/payments/refund', { idempotencyKey: refundKey, paymentId: charged.paymentId });
    expect(await voidKey(refundKey)).toMatchObject({
      status: 422,
      body: { code: 'idempotency_key_reused' },
    });
  });

  describe('PaymentGatewayClient.voidPayment', () => {
    it('voided (the same again on a repeat), transient when down, throws on a refund key', async () => {
      const request = authorizeRequest();
      await client().authorize(request);
      const voided = await client().voidPayment(request.idempotencyKey);
      expect(voided).toEqual({ outcome: 'voided', voidId: expect.stringMatching(/^void_/) });
      expect(await client().voidPayment(request.idempotencyKey)).toEqual(voided);
      expect(await client().authorize(request)).toEqual({ outcome: 'declined', reason: 'voided' });

      const authorized = await client().authorize(authorizeRequest());
      if (authorized.outcome !== 'authorized') throw new Error('expected an authorization');
      const refundKey = unique('refund');
      await client().refund(authorized.paymentId, refundKey);
      await expect(client().voidPayment(refundKey)).rejects.toThrow(PaymentGatewayError);

      await behave({ down: true });
      expect(await client().voidPayment(unique('pay'))).toMatchObject({ outcome: 'transient' });
    });

    it('a refund of a voided payment is rejected (nothing to refund)', async () => {
      const request = authorizeRequest();
      const authorized = await client().authorize(request);
      if (authorized.outcome !== 'authorized') throw new Error('expected an authorization');
      await client().voidPayment(request.idempotencyKey);
      expect(await client().refund(authorized.paymentId, unique('refund'))).toEqual({
        outcome: 'rejected',
        reason: 'payment_voided',
      });
    });
  });
});
