import type { Config } from '../../lib/config';
import {
  call,
  type HttpResult,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';

/**
 * Issue 9, item 4: the refusal of a reused Idempotency-Key answers that request only. It used
 * to be written to the replies topic like an outcome, so the bus reported it at
 * GET /commands/{id}, and an owner replaying the replies after a restart took it for the
 * command's outcome: the original request, repeated, was then refused too.
 */
describe('a reused Idempotency-Key never replaces the outcome, before or after a restart', () => {
  let config: Config;
  let api: RunningCommandApi | undefined;
  let admin: string;
  let customer: string;
  let productId: string;

  beforeAll(async () => {
    config = await isolatedConfig('idem-restart', { COMMAND_TIMEOUT_MS: '15000' });
    api = await startCommandApi(config);
    admin = await tokenFor(config, 'admin', 'alice');
    customer = await tokenFor(config, 'customer', 'c-7');
    const created = await call(api.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'IDEM-RESTART',
        name: 'Cup',
        category: 'kitchen',
        price: { amount: 800, currency: 'EUR' },
        initialStock: 50,
      },
    });
    productId = created.body.aggregateId as string;
  });
  afterAll(() => api?.stop());

  const headers = { 'Idempotency-Key': 'order-K' };
  const original = () =>
    call((api as RunningCommandApi).url, 'POST', '/orders', {
      token: customer,
      headers,
      body: { items: [{ productId, quantity: 1 }] },
    });
  const reused = () =>
    call((api as RunningCommandApi).url, 'POST', '/orders', {
      token: customer,
      headers,
      body: { items: [{ productId, quantity: 2 }] },
    });
  const status = (commandId: unknown) =>
    call((api as RunningCommandApi).url, 'GET', `/commands/${commandId}`, { token: customer });
  const expectReuseRefused = (res: HttpResult) => {
    expect(res.status).toBe(422);
    expect(res.body.code).toBe('idempotency_key_reused');
  };

  it('answers the original request with its first answer, and GET /commands/{id} with its outcome', async () => {
    const first = await original();
    expect(first.status).toBe(201);
    const commandId = first.body.commandId;

    expectReuseRefused(await reused());
    // Both at once: each request gets the answer to its own body.
    const [again, refused] = await Promise.all([original(), reused()]);
    expect(again.text).toBe(first.text);
    expectReuseRefused(refused);
    const known = await status(commandId);
    expect(known.status).toBe(200);
    expect(known.text).toBe(first.text);

    // A new command service replays the partitions (events and replies) as their new owner.
    await api?.stop();
    api = undefined;
    api = await startCommandApi(config);

    const afterRestart = await original();
    expect(afterRestart.status).toBe(201);
    expect(afterRestart.text).toBe(first.text);
    const later = await status(commandId);
    expect(later.status).toBe(200);
    expect(later.text).toBe(first.text);
    expectReuseRefused(await reused());
    expect((await original()).text).toBe(first.text);
  });
});
