import { createPaymentGateway, type PaymentGateway } from '../../infra/payment-gateway/app';
import { type Behaviour, behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import {
  type AuthorizeRequest,
  PaymentGatewayClient,
  PaymentGatewayError,
} from '../../infra/payment-gateway/client';
import type { PaymentRecord } from '../../infra/payment-gateway/ledger';
import { ConfigError, loadConfig } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { freePort, silentLogger } from '../support/test-env';

/** The payment gateway simulator in-process on a free port: no Kafka, Postgres or Redis needed. */

const BASE: Behaviour = {
  ...behaviourFromConfig(loadConfig({}).paymentGateway),
  latencyMs: 0,
};

/** The fields these tests read from the gateway's JSON answers. */
interface Body {
  paymentId: string;
  refundId: string;
  errors: { field: string }[];
  items: PaymentRecord[];
}
const json = async (res: Response): Promise<Body> => (await res.json()) as Body;

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

function authorizeRequest(overrides: Partial<AuthorizeRequest> = {}): AuthorizeRequest {
  const orderId = overrides.orderId ?? unique('order');
  return {
    idempotencyKey: `authorize-${orderId}`,
    orderId,
    customerId: 'c-42',
    amount: { amount: 2598, currency: 'EUR' },
    ...overrides,
  };
}

describe('payment gateway simulator', () => {
  let gateway: PaymentGateway;
  let server: RunningServer;
  /** Values the next rolls of the dice return, before falling back to Math.random. */
  const dice: number[] = [];

  beforeAll(async () => {
    gateway = createPaymentGateway({
      logger: silentLogger(),
      behaviour: BASE,
      bodyLimit: '2kb',
      healthTimeoutMs: 100,
      random: () => dice.shift() ?? Math.random(),
    });
    server = await listen(gateway.app, '127.0.0.1', 0);
  });
  afterAll(async () => {
    gateway.stop();
    await server.close();
  });
  beforeEach(async () => {
    dice.length = 0;
    const res = await fetch(`${server.url}/admin/behaviour`, { method: 'DELETE' });
    expect(res.status).toBe(200);
  });

  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const authorize = (body: unknown) => post('/payments/authorize', body);
  const refund = (body: unknown) => post('/payments/refund', body);
  const behave = async (patch: Record<string, unknown>): Promise<Behaviour> => {
    const res = await fetch(`${server.url}/admin/behaviour`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Behaviour;
  };
  const recordsOf = async (orderId: string): Promise<PaymentRecord[]> => {
    const res = await fetch(`${server.url}/payments?orderId=${encodeURIComponent(orderId)}`);
    expect(res.status).toBe(200);
    return ((await json(res)) as { items: PaymentRecord[] }).items;
  };
  const client = (timeoutMs = 2000) => new PaymentGatewayClient(server.url, { timeoutMs });

  describe('health', () => {
    it('is live, and always ready (no dependencies)', async () => {
      expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
      const ready = await fetch(`${server.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await json(ready)).toEqual({ status: 'ready', dependencies: {} });
    });

    it('stays ready while the gateway simulates an outage', async () => {
      await behave({ down: true });
      expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
    });
  });

  describe('authorize', () => {
    it('authorizes: 200 with the payment id, one authorization recorded', async () => {
      const request = authorizeRequest();
      const res = await authorize(request);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toEqual({
        paymentId: expect.stringMatching(/^pay_/),
        status: 'authorized',
        orderId: request.orderId,
        amount: request.amount,
      });
      expect(await recordsOf(request.orderId)).toEqual([
        expect.objectContaining({
          type: 'authorization',
          paymentId: body.paymentId,
          status: 'authorized',
          orderId: request.orderId,
          customerId: 'c-42',
          amount: request.amount,
          idempotencyKey: request.idempotencyKey,
        }),
      ]);
    });

    it('is idempotent by key: the same key twice gives the same payment, charged once', async () => {
      const request = authorizeRequest();
      const first = await json(await authorize(request));
      const again = await authorize(request);
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual(first);
      const concurrent = await Promise.all([authorize(request), authorize(request)]);
      for (const res of concurrent) expect((await json(res)).paymentId).toBe(first.paymentId);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('answers concurrent first attempts with one key with a single charge', async () => {
      await behave({ latencyMs: 50 });
      const request = authorizeRequest();
      const answers = await Promise.all(
        Array.from({ length: 5 }, async () => json(await authorize(request))),
      );
      expect(new Set(answers.map((a) => a.paymentId)).size).toBe(1);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('refuses the same key with a different body: 422, nothing recorded', async () => {
      const request = authorizeRequest();
      await authorize(request);
      const res = await authorize({ ...request, amount: { amount: 1, currency: 'EUR' } });
      expect(res.status).toBe(422);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await json(res)).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
      const reusedForRefund = await refund({
        idempotencyKey: request.idempotencyKey,
        paymentId: 'x',
      });
      expect(reusedForRefund.status).toBe(422);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('declines amounts over declineOverAmount: 402 with a reason', async () => {
      await behave({ declineOverAmount: 10_000 });
      const over = authorizeRequest({ amount: { amount: 10_001, currency: 'EUR' } });
      const res = await authorize(over);
      expect(res.status).toBe(402);
      expect(await json(res)).toMatchObject({
        status: 'declined',
        reason: 'insufficient_funds',
        orderId: over.orderId,
      });
      const atLimit = await authorize(
        authorizeRequest({ amount: { amount: 10_000, currency: 'EUR' } }),
      );
      expect(atLimit.status).toBe(200);
      expect(await recordsOf(over.orderId)).toEqual([
        expect.objectContaining({
          type: 'authorization',
          status: 'declined',
          reason: 'insufficient_funds',
        }),
      ]);
    });

    it('declines the customers in declineCustomers', async () => {
      await behave({ declineCustomers: ['c-blocked'] });
      const res = await authorize(authorizeRequest({ customerId: 'c-blocked' }));
      expect(res.status).toBe(402);
      expect(await json(res)).toMatchObject({ status: 'declined', reason: 'card_declined' });
      expect((await authorize(authorizeRequest({ customerId: 'c-fine' }))).status).toBe(200);
    });

    it('remembers a decline: the same key is declined again after the rule changes', async () => {
      await behave({ declineCustomers: ['c-7'] });
      const request = authorizeRequest({ customerId: 'c-7' });
      const first = await json(await authorize(request));
      await behave({ declineCustomers: [] });
      const again = await authorize(request);
      expect(again.status).toBe(402);
      expect(await json(again)).toEqual(first);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('answers bad input with a 400 problem naming every field at fault', async () => {
      const res = await authorize({
        idempotencyKey: '',
        orderId: 'o-1',
        amount: { amount: -5, currency: 'euro' },
        extra: true,
      });
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body).toMatchObject({ title: 'Invalid request', status: 400 });
      const fields = (body.errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'idempotencyKey',
          'customerId',
          'amount.amount',
          'amount.currency',
          'extra',
        ]),
      );
    });

    it('answers a body over the limit with 413 and malformed JSON with 400', async () => {
      const big = await authorize({ ...authorizeRequest(), orderId: 'x'.repeat(4096) });
      expect(big.status).toBe(413);
      const malformed = await fetch(`${server.url}/payments/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"idempotencyKey": ',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });
  });

  describe('refund', () => {
    it('refunds an authorized payment once, idempotent by key and by payment', async () => {
      const request = authorizeRequest();
      const { paymentId } = await json(await authorize(request));
      const res = await refund({ idempotencyKey: `refund-${request.orderId}`, paymentId });
      expect(res.status).toBe(200);
      const first = await json(res);
      expect(first).toEqual({
        refundId: expect.stringMatching(/^ref_/),
        paymentId,
        status: 'refunded',
        orderId: request.orderId,
        amount: request.amount,
      });
      const again = await refund({ idempotencyKey: `refund-${request.orderId}`, paymentId });
      expect(await json(again)).toEqual(first);
      const otherKey = await refund({ idempotencyKey: unique('refund'), paymentId });
      expect(otherKey.status).toBe(200);
      expect((await json(otherKey)).refundId).toBe(first.refundId);
      const records = await recordsOf(request.orderId);
      expect(records.map((r) => `${r.type}:${r.status}`)).toEqual([
        'authorization:authorized',
        'refund:refunded',
      ]);
    });

    it('answers 404 for an unknown payment and 409 for a declined one', async () => {
      const unknown = await refund({ idempotencyKey: unique('refund'), paymentId: 'pay_nope' });
      expect(unknown.status).toBe(404);
      expect(await json(unknown)).toMatchObject({ status: 404, code: 'payment_not_found' });

      await behave({ declineCustomers: ['c-broke'] });
      const declined = await json(await authorize(authorizeRequest({ customerId: 'c-broke' })));
      const res = await refund({ idempotencyKey: unique('refund'), paymentId: declined.paymentId });
      expect(res.status).toBe(409);
      expect(await json(res)).toMatchObject({ code: 'payment_not_authorized' });
    });
  });

  describe('transient failures', () => {
    it('failureRate 1: every call 503 with Retry-After, not remembered, so a retry succeeds', async () => {
      const request = authorizeRequest();
      await behave({ failureRate: 1 });
      const res = await authorize(request);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await json(res)).toMatchObject({ status: 503, reason: 'simulated_failure' });
      expect(await recordsOf(request.orderId)).toEqual([]);

      await behave({ failureRate: 0 });
      const retry = await authorize(request);
      expect(retry.status).toBe(200);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('draws failures with the injected randomness', async () => {
      await behave({ failureRate: 0.5 });
      dice.push(0.4, 0.6); // below the rate fails, above it passes
      const request = authorizeRequest();
      expect((await authorize(request)).status).toBe(503);
      expect((await authorize(request)).status).toBe(200);
    });

    it('down: every payment call 503; the list and admin still answer; up again it works', async () => {
      const request = authorizeRequest();
      const { paymentId } = await json(await authorize(request));
      await behave({ down: true });
      const a = await authorize(authorizeRequest());
      expect(a.status).toBe(503);
      expect(await json(a)).toMatchObject({ reason: 'gateway_down' });
      expect((await authorize(request)).status).toBe(503); // even a replay
      expect((await refund({ idempotencyKey: unique('refund'), paymentId })).status).toBe(503);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
      await behave({ down: false });
      expect((await refund({ idempotencyKey: unique('refund'), paymentId })).status).toBe(200);
    });

    it('timeoutRate 1: hangs timeoutHangMs, then 504; nothing recorded', async () => {
      await behave({ timeoutRate: 1, timeoutHangMs: 300 });
      const request = authorizeRequest();
      const started = Date.now();
      const res = await authorize(request);
      expect(res.status).toBe(504);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(await json(res)).toMatchObject({ status: 504, reason: 'simulated_timeout' });
      expect(await recordsOf(request.orderId)).toEqual([]);
    });

    it('timeoutAfterCharge: the payment is recorded, only the answer lost; a retry gets it', async () => {
      await behave({ timeoutRate: 1, timeoutHangMs: 50, timeoutAfterCharge: true });
      const request = authorizeRequest();
      expect((await authorize(request)).status).toBe(504);
      const [record] = await recordsOf(request.orderId);
      expect(record).toMatchObject({ type: 'authorization', status: 'authorized' });
      await behave({ timeoutRate: 0 });
      const retry = await authorize(request);
      expect((await json(retry)).paymentId).toBe(record?.paymentId);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('adds latencyMs to every payment call', async () => {
      await behave({ latencyMs: 200 });
      const started = Date.now();
      expect((await authorize(authorizeRequest())).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    });

    it('stop() ends pending hangs at once with 503', async () => {
      const own = createPaymentGateway({
        logger: silentLogger(),
        behaviour: { ...BASE, timeoutRate: 1, timeoutHangMs: 60_000 },
        bodyLimit: '2kb',
        healthTimeoutMs: 100,
      });
      const running = await listen(own.app, '127.0.0.1', 0);
      try {
        const started = Date.now();
        const pending = fetch(`${running.url}/payments/authorize`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(authorizeRequest()),
        });
        await new Promise((r) => setTimeout(r, 100));
        own.stop();
        const res = await pending;
        expect(res.status).toBe(503);
        expect(await json(res)).toMatchObject({ reason: 'shutting_down' });
        expect(Date.now() - started).toBeLessThan(5000);
      } finally {
        await running.close();
      }
    });
  });

  describe('behaviour at runtime', () => {
    it('GET shows it, PUT changes only the given fields, DELETE returns to the start', async () => {
      const initial = await json(await fetch(`${server.url}/admin/behaviour`));
      expect(initial).toEqual(BASE);
      const changed = await behave({ failureRate: 0.25, declineCustomers: ['c-1'], down: true });
      expect(changed).toEqual({
        ...BASE,
        failureRate: 0.25,
        declineCustomers: ['c-1'],
        down: true,
      });
      expect(await json(await fetch(`${server.url}/admin/behaviour`))).toEqual(changed);
      expect(gateway.behaviour()).toEqual(changed);
      const reset = await fetch(`${server.url}/admin/behaviour`, { method: 'DELETE' });
      expect(await json(reset)).toEqual(BASE);
    });

    it('changes how the next calls are answered', async () => {
      const blocked = authorizeRequest({ customerId: 'c-switch' });
      expect((await authorize(blocked)).status).toBe(200);
      await behave({ declineCustomers: ['c-switch'] });
      expect((await authorize(authorizeRequest({ customerId: 'c-switch' }))).status).toBe(402);
      await behave({ declineCustomers: [], declineOverAmount: 100 });
      expect((await authorize(authorizeRequest({ customerId: 'c-switch' }))).status).toBe(402);
      await behave({ declineOverAmount: null });
      expect((await authorize(authorizeRequest({ customerId: 'c-switch' }))).status).toBe(200);
    });

    it('refuses a bad behaviour with a 400 naming the fields, and keeps the old one', async () => {
      const res = await fetch(`${server.url}/admin/behaviour`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ failureRate: 2, latencyMs: -1, declineOverAmount: 'lots', mood: 1 }),
      });
      expect(res.status).toBe(400);
      const fields = ((await json(res)).errors as { field: string }[]).map((e) => e.field);
      expect(fields).toEqual(
        expect.arrayContaining(['failureRate', 'latencyMs', 'declineOverAmount', 'mood']),
      );
      expect(gateway.behaviour()).toEqual(BASE);
    });
  });

  describe('GET /payments', () => {
    it('lists an order’s authorizations and refunds, and all with a limit', async () => {
      const a = authorizeRequest();
      const { paymentId } = await json(await authorize(a));
      await refund({ idempotencyKey: unique('refund'), paymentId });
      await authorize(authorizeRequest());
      expect((await recordsOf(a.orderId)).map((r) => r.type)).toEqual(['authorization', 'refund']);
      expect(await recordsOf('order-never-seen')).toEqual([]);

      const all = await json(await fetch(`${server.url}/payments?limit=2`));
      expect(all.items).toHaveLength(2);
      expect(all.items[1]).toMatchObject({ type: 'authorization', status: 'authorized' });
      const everything = await json(await fetch(`${server.url}/payments`));
      expect(everything.items.length).toBeGreaterThan(2);

      const bad = await fetch(`${server.url}/payments?limit=0`);
      expect(bad.status).toBe(400);
      expect(await json(bad)).toMatchObject({
        errors: [expect.objectContaining({ field: 'limit' })],
      });
    });
  });

  describe('PaymentGatewayClient', () => {
    it('authorized, and the same again for the same key', async () => {
      const request = authorizeRequest();
      const first = await client().authorize(request);
      expect(first).toEqual({ outcome: 'authorized', paymentId: expect.stringMatching(/^pay_/) });
      expect(await client().authorize(request)).toEqual(first);
      expect(await recordsOf(request.orderId)).toHaveLength(1);
    });

    it('declined, by amount and by customer', async () => {
      await behave({ declineOverAmount: 500, declineCustomers: ['c-no'] });
      expect(await client().authorize(authorizeRequest({ customerId: 'c-no' }))).toEqual({
        outcome: 'declined',
        reason: 'card_declined',
      });
      expect(
        await client().authorize(authorizeRequest({ amount: { amount: 501, currency: 'EUR' } })),
      ).toEqual({ outcome: 'declined', reason: 'insufficient_funds' });
    });

    it('transient on a 503 (failure or outage); a retry with the same key succeeds', async () => {
      const request = authorizeRequest();
      await behave({ failureRate: 1 });
      expect(await client().authorize(request)).toEqual({
        outcome: 'transient',
        reason: expect.stringMatching(/^HTTP 503: simulated transient failure/),
      });
      await behave({ failureRate: 0, down: true });
      expect(await client().authorize(request)).toMatchObject({ outcome: 'transient' });
      await behave({ down: false });
      expect(await client().authorize(request)).toMatchObject({ outcome: 'authorized' });
    });

    it('transient within its own timeout when the gateway hangs', async () => {
      await behave({ timeoutRate: 1, timeoutHangMs: 5000 });
      const started = Date.now();
      const outcome = await client(200).authorize(authorizeRequest());
      const elapsed = Date.now() - started;
      expect(outcome).toEqual({ outcome: 'transient', reason: 'no answer within 200 ms' });
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(2000);
    });

    it('transient on the gateway’s own 504 when the hang is shorter than the client timeout', async () => {
      await behave({ timeoutRate: 1, timeoutHangMs: 100 });
      expect(await client(2000).authorize(authorizeRequest())).toEqual({
        outcome: 'transient',
        reason: expect.stringMatching(/^HTTP 504/),
      });
    });

    it('transient when nothing listens', async () => {
      const nowhere = new PaymentGatewayClient(`http://127.0.0.1:${await freePort()}`, {
        timeoutMs: 2000,
      });
      expect(await nowhere.authorize(authorizeRequest())).toEqual({
        outcome: 'transient',
        reason: expect.stringMatching(/ECONNREFUSED/),
      });
      expect(await nowhere.refund('pay_x', 'k')).toMatchObject({ outcome: 'transient' });
    });

    it('refunded (idempotent), rejected for an unknown payment, transient when down', async () => {
      const authorized = await client().authorize(authorizeRequest());
      if (authorized.outcome !== 'authorized') throw new Error('expected an authorization');
      const key = unique('refund');
      const refunded = await client().refund(authorized.paymentId, key);
      expect(refunded).toEqual({ outcome: 'refunded', refundId: expect.stringMatching(/^ref_/) });
      expect(await client().refund(authorized.paymentId, key)).toEqual(refunded);
      expect(await client().refund('pay_unknown', unique('refund'))).toEqual({
        outcome: 'rejected',
        reason: 'payment_not_found',
      });
      await behave({ down: true });
      expect(await client().refund(authorized.paymentId, unique('refund'))).toMatchObject({
        outcome: 'transient',
      });
    });

    it('throws PaymentGatewayError for a request the gateway refuses as malformed (a bug)', async () => {
      const request = authorizeRequest();
      await client().authorize(request);
      await expect(
        client().authorize({ ...request, amount: { amount: 1, currency: 'EUR' } }),
      ).rejects.toThrow(PaymentGatewayError);
      await expect(
        client().authorize({ ...request, idempotencyKey: unique('k'), customerId: '' }),
      ).rejects.toMatchObject({ name: 'PaymentGatewayError', status: 400 });
    });
  });
});

describe('payment gateway configuration', () => {
  it('has defaults: port 3003, its URL, 20 ms latency, no faults, no declines', () => {
    expect(loadConfig({}).paymentGateway).toEqual({
      port: 3003,
      url: 'http://127.0.0.1:3003',
      latencyMs: 20,
      failureRate: 0,
      timeoutRate: 0,
      timeoutHangMs: 30_000,
      declineOverAmount: undefined,
      declineCustomers: [],
    });
  });

  it('reads every PAYMENT_* variable', () => {
    const config = loadConfig({
      PAYMENT_GATEWAY_PORT: '4000',
      PAYMENT_GATEWAY_URL: 'http://gateway:4000/',
      PAYMENT_LATENCY_MS: '5',
      PAYMENT_FAILURE_RATE: '0.25',
      PAYMENT_TIMEOUT_RATE: '1',
      PAYMENT_GATEWAY_TIMEOUT_HANG_MS: '100',
      PAYMENT_DECLINE_OVER_AMOUNT: '10000',
      PAYMENT_DECLINE_CUSTOMERS: 'c-1, c-2',
    }).paymentGateway;
    expect(config).toEqual({
      port: 4000,
      url: 'http://gateway:4000',
      latencyMs: 5,
      failureRate: 0.25,
      timeoutRate: 1,
      timeoutHangMs: 100,
      declineOverAmount: 10_000,
      declineCustomers: ['c-1', 'c-2'],
    });
    expect(behaviourFromConfig(config)).toEqual({
      latencyMs: 5,
      failureRate: 0.25,
      timeoutRate: 1,
      timeoutHangMs: 100,
      timeoutAfterCharge: false,
      declineOverAmount: 10_000,
      declineCustomers: ['c-1', 'c-2'],
      down: false,
    });
  });

  it('derives the URL from the port when no URL is given', () => {
    expect(loadConfig({ PAYMENT_GATEWAY_PORT: '4555' }).paymentGateway.url).toBe(
      'http://127.0.0.1:4555',
    );
  });

  it.each([
    ['PAYMENT_GATEWAY_PORT', '70000'],
    ['PAYMENT_GATEWAY_URL', 'gateway:3003'],
    ['PAYMENT_LATENCY_MS', '-1'],
    ['PAYMENT_FAILURE_RATE', '1.5'],
    ['PAYMENT_FAILURE_RATE', 'half'],
    ['PAYMENT_TIMEOUT_RATE', '2'],
    ['PAYMENT_GATEWAY_TIMEOUT_HANG_MS', 'soon'],
    ['PAYMENT_DECLINE_OVER_AMOUNT', '12.50'],
    ['PAYMENT_DECLINE_CUSTOMERS', 'c-1,,c-2'],
  ])('fails fast naming %s when it is %p', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}="${value}"`));
  });
});
