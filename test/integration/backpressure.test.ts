import type { Config } from '../../lib/config';
import { topicNames } from '../../lib/topics';
import {
  call,
  type HttpResult,
  isolatedConfig,
  type RunningCommandApi,
  readEvents,
  startCommandApi,
  tokenFor,
} from '../support/command-api';

/** 200 concurrent orders for one product with plenty of stock: the answers, in order. */
async function flood(config: Config, api: RunningCommandApi, sku: string): Promise<HttpResult[]> {
  const admin = await tokenFor(config, 'admin', 'alice');
  const customer = await tokenFor(config, 'customer', 'c-flood');
  const create = () =>
    call(api.url, 'POST', '/products', {
      token: admin,
      headers: { 'Idempotency-Key': `create-${sku}` },
      body: {
        sku,
        name: 'Flood',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 1000,
      },
    });
  // One command alone is never withdrawn, however slow its transaction: no backlog.
  const created = await create();
  expect(created.status).toBe(201);
  const productId = created.body.aggregateId as string;
  return Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      call(api.url, 'POST', '/orders', {
        token: customer,
        headers: { 'Idempotency-Key': `${sku}-${i}` },
        body: { items: [{ productId, quantity: 1 }] },
      }),
    ),
  );
}

/** Every answer is 201 or a 503 problem with Retry-After; exactly the 201s were appended. */
async function expectOnlyAcceptedAppended(config: Config, answers: HttpResult[]) {
  expect(answers.map((a) => a.status).filter((s) => s !== 201 && s !== 503)).toEqual([]);
  const refused = answers.filter((a) => a.status === 503);
  expect(refused.length).toBeGreaterThan(0);
  for (const r of refused) {
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    expect(r.body).toMatchObject({ status: 503, type: 'urn:orderstream:problem:unavailable' });
  }
  const placed = (await readEvents(config, topicNames(config.topics).orderEvents)).filter(
    (e) => e.type === 'OrderPlaced',
  );
  const accepted = answers.filter((a) => a.status === 201).map((a) => a.body.aggregateId);
  expect(accepted.length).toBeGreaterThan(0);
  expect(placed.map((e) => e.aggregateId).sort()).toEqual(accepted.sort());
  return refused;
}

/**
 * Backpressure (issue 10): a command-api process holds a bounded number of commands in flight
 * (COMMAND_MAX_IN_FLIGHT), and a command waits for its owner's transaction at most
 * COMMAND_QUEUE_BUDGET_MS. Past either, the command is refused with 503 problem+json and
 * Retry-After — never a 500 — and a refused command appends nothing.
 */
describe('more commands than a process takes at once', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    config = await isolatedConfig('backpressure', { COMMAND_MAX_IN_FLIGHT: '4' });
    api = await startCommandApi(config);
  });
  afterAll(() => api?.stop());

  it('refuses the excess with 503 and Retry-After, and appends exactly the accepted ones', async () => {
    await expectOnlyAcceptedAppended(config, await flood(config, api, 'FLOOD-1'));
  });
});

describe('commands that wait longer than the queue budget', () => {
  let config: Config;
  let api: RunningCommandApi;

  beforeAll(async () => {
    // Room for every command, but only a millisecond to wait: all but the commands an owner
    // takes at once are withdrawn while the transaction before them commits.
    config = await isolatedConfig('queue-budget', {
      COMMAND_MAX_IN_FLIGHT: '10000',
      COMMAND_QUEUE_BUDGET_MS: '1',
      // A backlog is more commands waiting than one transaction takes. One per transaction
      // makes 200 concurrent orders a backlog however fast the machine is at the moment (with
      // five, a quick run once kept at most five waiting, and none was withdrawn).
      COMMAND_BATCH_SIZE: '1',
    });
    api = await startCommandApi(config);
  });
  afterAll(() => api?.stop());

  it('are withdrawn undecided: 503 with Retry-After, nothing appended for them', async () => {
    const refused = await expectOnlyAcceptedAppended(
      config,
      await flood(config, api, 'QUEUE-BUDGET-1'),
    );
    expect(refused.map((r) => r.body.detail)).toContain(
      'the owner of this command is too busy; try again',
    );
  });
});
