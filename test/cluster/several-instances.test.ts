import { createPaymentGateway } from '../../infra/payment-gateway/app';
import { behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { topicNames } from '../../lib/topics';
import { createQueryApi, type QueryApi } from '../../query-api/app';
import {
  call,
  envOf,
  isolatedConfig,
  readEvents,
  type StoredEvent,
  tokenFor,
} from '../support/command-api';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, freePort, silentLogger } from '../support/test-env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  key: string;
  statuses: number[];
  orderId?: string;
}

/**
 * Issue 14, item 3: two command-api, two projectors and two saga processes share the
 * partitions; one of each is SIGKILLed mid-load and started again. Every acknowledged command
 * is decided once, every event projected once, and a client of the surviving command API sees
 * nothing worse than 503 + Retry-After while the partitions move.
 */
describe('several instances of every process', () => {
  let config: Config;
  let gateway: { stop(): void };
  let gatewayServer: RunningServer;
  let query: { api: QueryApi; server: RunningServer };
  const processes: ServiceProcess[] = [];
  let env: NodeJS.ProcessEnv;

  const start = async (entry: string, ready: string, extra: NodeJS.ProcessEnv = {}) => {
    const child = startServiceProcess(entry, Number(extra.COMMAND_API_PORT ?? 0), {
      ...env,
      ...extra,
    });
    processes.push(child);
    await child.waitForLog((l) => l.msg === ready, 120_000);
    return child;
  };
  const commandApi = async () => {
    const port = await freePort();
    return start('command-api/main.ts', 'command-api listening', {
      COMMAND_API_PORT: String(port),
    });
  };
  const projectors = () => start('projectors/main.ts', 'projectors running');
  const sagas = () => start('sagas/main.ts', 'sagas running');

  beforeAll(async () => {
    config = await isolatedConfig(
      'instances',
      { COMMAND_TIMEOUT_MS: '15000', COMMAND_SESSION_TIMEOUT_MS: '6000' },
      { stores: true },
    );
    const g = createPaymentGateway({
      logger: silentLogger(),
      behaviour: { ...behaviourFromConfig(config.paymentGateway), latencyMs: 5 },
      bodyLimit: '100kb',
      healthTimeoutMs: 1000,
    });
    gateway = g;
    gatewayServer = await listen(g.app, '127.0.0.1', 0);
    env = {
      ...envOf(config),
      KAFKA_BROKERS: config.kafka.brokers.join(','),
      PAYMENT_GATEWAY_URL: gatewayServer.url,
      COMMAND_TIMEOUT_MS: '15000',
      COMMAND_SESSION_TIMEOUT_MS: '6000',
      // Observability ports of projectors and sagas, where they have one: any free port.
      PROJECTORS_PORT: '0',
      SAGAS_PORT: '0',
    };
    const api = createQueryApi(config, silentLogger());
    query = { api, server: await listen(api.app, '127.0.0.1', 0) };
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await query?.server.close();
    await query?.api.close();
    await gatewayServer?.close();
    gateway?.stop();
  });

  it('decides every acknowledged order once and projects every event once through SIGKILLs', async () => {
    const [apiA, apiB] = [await commandApi(), await commandApi()];
    const [projectorA] = [await projectors(), await projectors()];
    const [sagaA] = [await sagas(), await sagas()];
    const admin = await tokenFor(config, 'admin', 'alice');
    const created = await call(apiA.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'INSTANCES-1',
        name: 'Instances',
        category: 'c',
        price: { amount: 100, currency: 'EUR' },
        initialStock: 100_000,
      },
    });
    expect(created.status).toBe(201);
    const productId = created.body.aggregateId as string;
    const token = await tokenFor(config, 'customer', 'c-instances');

    const survivorAnswers: Answer[] = [];
    const movedAnswers: Answer[] = [];
    let placing = true;
    let apiBUrl: string | undefined = apiB.url;
    /** A careful client: retries 503, 202 and broken connections with its key until it has an outcome. */
    const client = async (worker: number, answers: Answer[], url: () => string) => {
      for (let i = 0; placing; i += 1) {
        const answer: Answer = { key: `si-${worker}-${i}`, statuses: [] };
        answers.push(answer);
        for (let attempt = 0; attempt < 60; attempt += 1) {
          const res = await call(url(), 'POST', '/orders', {
            token,
            headers: { 'Idempotency-Key': answer.key },
            body: { items: [{ productId, quantity: 1 }] },
          }).catch(() => undefined);
          answer.statuses.push(res?.status ?? 0);
          if (res?.status === 503) expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
          if (res && res.status !== 503 && res.status !== 202) {
            if (res.status === 201) answer.orderId = res.body.aggregateId as string;
            break;
          }
          await sleep(250);
        }
      }
    };
    // The other instance learns of the new product from the product events (its catalogue is
    // eventually consistent): until then it refuses the product as unknown.
    const warm: Answer = { key: 'si-warm', statuses: [] };
    for (let attempt = 0; attempt < 120 && warm.orderId === undefined; attempt += 1) {
      const res = await call(apiB.url, 'POST', '/orders', {
        token,
        headers: { 'Idempotency-Key': warm.key },
        body: { items: [{ productId, quantity: 1 }] },
      });
      warm.statuses.push(res.status);
      if (res.status === 201) warm.orderId = res.body.aggregateId as string;
      else await sleep(250);
    }
    movedAnswers.push(warm);
    const load = Promise.all([
      client(0, survivorAnswers, () => apiA.url),
      client(1, survivorAnswers, () => apiA.url),
      // Its instance is killed: it goes on with the survivor, as behind a load balancer.
      client(2, movedAnswers, () => apiBUrl ?? apiA.url),
    ]);

    await sleep(5000);
    apiBUrl = undefined;
    await Promise.all([apiB.kill('SIGKILL'), projectorA.kill('SIGKILL'), sagaA.kill('SIGKILL')]);
    await sleep(8000);
    await Promise.all([commandApi(), projectors(), sagas()]);
    await sleep(4000);
    placing = false;
    await load;

    // The survivor's clients saw 201, and 503 (or 202) while partitions moved; never an error.
    const seen = new Set(survivorAnswers.flatMap((a) => a.statuses));
    expect([...seen].filter((s) => ![201, 202, 503].includes(s))).toEqual([]);
    const all = [...survivorAnswers, ...movedAnswers];
    expect(all.filter((a) => a.orderId === undefined)).toEqual([]);
    const ids = new Set(all.map((a) => a.orderId ?? ''));
    expect(ids.size).toBe(all.length);

    // Decided once: one OrderPlaced and one OrderConfirmed per acknowledged order, no other.
    const orderTopic = topicNames(config.topics).orderEvents;
    const byOrder = new Map<string, StoredEvent[]>();
    await eventually(
      async () => {
        byOrder.clear();
        for (const e of await readEvents(config, orderTopic))
          byOrder.set(e.aggregateId, [...(byOrder.get(e.aggregateId) ?? []), e]);
        return [...ids].filter(
          (id) => !(byOrder.get(id) ?? []).some((e) => e.type === 'OrderConfirmed'),
        ).length;
      },
      (unsettled) => unsettled === 0,
      180_000,
    );
    expect([...byOrder.keys()].filter((id) => !ids.has(id))).toEqual([]);
    const wrong = [...ids].filter((id) => {
      const types = (byOrder.get(id) ?? []).map((e) => e.type);
      return (
        types.filter((t) => t === 'OrderPlaced').length !== 1 ||
        types.filter((t) => t === 'OrderConfirmed').length !== 1 ||
        types.includes('OrderCancelled')
      );
    });
    expect(wrong).toEqual([]);

    // Projected once: the read model's stock is the log's, and every order reads confirmed.
    const stockInLog = (await readEvents(config, topicNames(config.topics).productEvents))
      .filter((e) => e.aggregateId === productId)
      .at(-1)?.data.available;
    expect(stockInLog).toBe(100_000 - ids.size);
    const product = await eventually(
      () => call(query.server.url, 'GET', `/products/${productId}`, { token: admin }),
      (res) => res.body.stock === stockInLog || res.body.available === stockInLog,
      60_000,
    );
    // On failure, what the query API answered (a problem, or the product as it stood).
    expect({ status: product.status, stock: product.body.stock ?? product.body.available }).toEqual(
      {
        status: 200,
        stock: stockInLog,
      },
    );
    expect([product.body.stock, product.body.available]).toContain(stockInLog);
    const orders = await eventually(
      () =>
        Promise.all(
          [...ids].map((id) => call(query.server.url, 'GET', `/orders/${id}`, { token })),
        ),
      (rs) => rs.every((r) => r.body.status === 'confirmed'),
      60_000,
    );
    expect(orders.map((r) => r.body.status).filter((s) => s !== 'confirmed')).toEqual([]);
  });
});
