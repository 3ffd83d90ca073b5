import type { Config } from '../../lib/config';
import { topicNames } from '../../lib/topics';
import {
  call,
  type HttpResult,
  isolatedConfig,
  readEvents,
  tokenFor,
} from '../support/command-api';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, freePort } from '../support/test-env';

type Assignment = Record<string, number[]>;
const owned = (a: Assignment) => Object.values(a).reduce((n, ps) => n + ps.length, 0);

/**
 * The fast path across a handover: a command-api process decides commands for the partitions
 * it owns in-process. When a second process joins and partitions move to it, the commands in
 * flight in the first are answered 201, 202 or 503 — never 500 — and each is decided exactly
 * once: a retry with its Idempotency-Key gets the first outcome, never a second order.
 */
describe('commands in flight while their partition moves', () => {
  let config: Config;
  let env: NodeJS.ProcessEnv;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    config = await isolatedConfig('handover', {
      COMMAND_SESSION_TIMEOUT_MS: '6000',
      COMMAND_TIMEOUT_MS: '3000',
    });
    env = {
      TOPIC_PREFIX: config.topics.prefix,
      COMMAND_SESSION_TIMEOUT_MS: '6000',
      COMMAND_TIMEOUT_MS: '3000',
    };
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  });

  const start = async () => {
    const port = await freePort();
    const p = startServiceProcess('command-api/main.ts', port, {
      ...env,
      COMMAND_API_PORT: String(port),
    });
    processes.push(p);
    await p.waitForLog((l) => l.msg === 'command-api listening');
    return p;
  };
  const assignment = (p: ServiceProcess): Assignment =>
    ([...p.logs].reverse().find((l) => l.msg === 'command partitions assigned')
      ?.assignment as Assignment) ?? {};

  it('answers 201/202/503 and decides each command once while partitions move', async () => {
    const total = config.topics.partitions * 2;
    const a = await start();
    await eventually(
      async () => owned(assignment(a)),
      (n) => n === total,
      30_000,
    );
    const admin = await tokenFor(config, 'admin', 'alice');
    const customer = await tokenFor(config, 'customer', 'c-handover');
    const created = await call(a.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'HANDOVER-1',
        name: 'Mover',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 100000,
      },
    });
    expect(created.status).toBe(201);
    const productId = created.body.aggregateId as string;

    // A steady stream of orders to A, each with its own key, while B joins.
    const answers = new Map<string, HttpResult>();
    let stop = false;
    let n = 0;
    const stream = (async () => {
      const inFlight = new Set<Promise<void>>();
      while (!stop) {
        const key = `order-${n++}`;
        const sent = call(a.url, 'POST', '/orders', {
          token: customer,
          headers: { 'Idempotency-Key': key },
          body: { items: [{ productId, quantity: 1 }] },
        }).then((r) => {
          answers.set(key, r);
        });
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= 20) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    await eventually(
      async () => answers.size,
      (size) => size >= 100,
      30_000,
    );
    const b = await start();
    await eventually(
      async () => [owned(assignment(a)), owned(assignment(b))],
      ([x, y]) => (x ?? 0) > 0 && (y ?? 0) > 0 && (x ?? 0) + (y ?? 0) === total,
      60_000,
    );
    await eventually(
      async () => answers.size,
      (size) => size >= n - 1 && n > 300,
      30_000,
    );
    stop = true;
    await stream;

    const statuses = [...answers.values()].map((r) => r.status);
    expect(statuses.filter((s) => ![201, 202, 503].includes(s))).toEqual([]);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThan(0);
    const retried = [...answers].filter(([, r]) => r.status !== 201).map(([key]) => key);
    // Everything not acknowledged is retried with its key until it is.
    for (const key of retried) {
      const again = await eventually(
        () =>
          call(a.url, 'POST', '/orders', {
            token: customer,
            headers: { 'Idempotency-Key': key },
            body: { items: [{ productId, quantity: 1 }] },
          }),
        (r) => r.status === 201,
        30_000,
      );
      expect(again.status).toBe(201);
      answers.set(key, again);
    }
    const placed = (await readEvents(config, topicNames(config.topics).orderEvents)).filter(
      (e) => e.type === 'OrderPlaced',
    );
    // One OrderPlaced per key, and each answer names that order.
    expect(placed).toHaveLength(answers.size);
    const orderIds = new Set(placed.map((e) => e.aggregateId));
    for (const r of answers.values()) expect(orderIds.has(r.body.aggregateId as string)).toBe(true);
  });
});
