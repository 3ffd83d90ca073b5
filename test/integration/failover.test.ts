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
const assignmentOf = (line: Record<string, unknown>) => line.assignment as Assignment;
const owned = (a: Assignment) => Object.values(a).reduce((n, ps) => n + ps.length, 0);

/**
 * Two command-api processes share the partitions; one is SIGKILLed mid-load. Every command
 * that got a 2xx (and every retry, with its Idempotency-Key) has its events exactly once,
 * and the survivor owns every partition after replaying them.
 */
describe('single writer across failover', () => {
  let config: Config;
  let env: NodeJS.ProcessEnv;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    config = await isolatedConfig('failover', {
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
  const lastAssignment = (p: ServiceProcess) =>
    assignmentOf(
      [...p.logs].reverse().find((l) => l.msg === 'command partitions assigned') ?? {
        assignment: {},
      },
    );

  it('keeps every acknowledged command exactly once, and the survivor takes over', async () => {
    const total = config.topics.partitions * 2; // product and order commands
    const a = await start();
    const b = await start();
    // Both members hold part of the partitions before the load starts.
    await eventually(
      async () => [owned(lastAssignment(a)), owned(lastAssignment(b))],
      ([x, y]) => (x ?? 0) > 0 && (y ?? 0) > 0 && (x ?? 0) + (y ?? 0) === total,
      30_000,
    );
    const admin = await tokenFor(config, 'admin', 'alice');
    const products: string[] = [];
    for (let i = 0; i < 8; i += 1) {
      const created = await call(b.url, 'POST', '/products', {
        token: admin,
        body: {
          sku: `FO-${i}`,
          name: `P${i}`,
          category: 'c',
          price: { amount: 100, currency: 'EUR' },
        },
        headers: { 'Idempotency-Key': `create-${i}` },
      });
      expect(created.status).toBe(201);
      products.push(created.body.aggregateId as string);
    }

    // The load: restocks with their own Idempotency-Keys, to both instances; A dies midway.
    const requests = Array.from({ length: 240 }, (_, i) => ({
      key: `restock-${i}`,
      productId: products[i % products.length] as string,
      quantity: 1 + (i % 5),
    }));
    const results = new Map<string, HttpResult | undefined>();
    let sent = 0;
    const send = async (target: ServiceProcess, r: (typeof requests)[number]) => {
      try {
        return await call(target.url, 'POST', `/products/${r.productId}/restock`, {
          token: admin,
          body: { quantity: r.quantity },
          headers: { 'Idempotency-Key': r.key },
        });
      } catch {
        return undefined; // connection refused or reset: no acknowledgement
      }
    };
    const workers = Array.from({ length: 12 }, async (_, w) => {
      for (let i = w; i < requests.length; i += 12) {
        const r = requests[i] as (typeof requests)[number];
        results.set(r.key, await send(i % 2 === 0 ? a : b, r));
        sent += 1;
        if (sent === 80) await a.kill('SIGKILL');
      }
    });
    await Promise.all(workers);
    expect(a.child.signalCode).toBe('SIGKILL');
    const acknowledged = [...results.values()].filter((r) => r && r.status === 200);
    expect(acknowledged.length).toBeGreaterThan(40);

    // The survivor takes every partition over.
    await eventually(
      async () => owned(lastAssignment(b)),
      (n) => n === total,
      60_000,
    );

    // A client retries what was not acknowledged, with the same key: each lands once.
    for (const r of requests) {
      const first = results.get(r.key);
      if (first?.status === 200) continue;
      const retried = await eventually(
        () => send(b, r),
        (res) => res?.status === 200,
        60_000,
      );
      expect(retried?.status).toBe(200);
      results.set(r.key, retried);
    }

    const events = (await readEvents(config, topicNames(config.topics).productEvents)).filter(
      (e) => e.type === 'ProductRestocked',
    );
    // Every acknowledged event is in the log exactly once.
    const eventIds = events.map((e) => e.eventId);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    for (const r of results.values()) {
      for (const e of (r?.body.events ?? []) as { eventId: string }[]) {
        expect(eventIds.filter((id) => id === e.eventId)).toHaveLength(1);
      }
    }
    // No command was applied twice, and every one was applied: stock is the sum of all restocks.
    const commandIds = events.map((e) => e.commandId);
    expect(new Set(commandIds).size).toBe(commandIds.length);
    expect(events).toHaveLength(requests.length);
    for (const productId of products) {
      const expected = requests
        .filter((r) => r.productId === productId)
        .reduce((s, r) => s + r.quantity, 0);
      const last = events.filter((e) => e.aggregateId === productId).at(-1);
      expect(last?.data.available).toBe(expected);
    }
    // The survivor rebuilt the partitions it took over from the log before deciding.
    expect(b.logs.some((l) => l.msg === 'partition owner ready' && Number(l.replayed) > 0)).toBe(
      true,
    );
  });
});
