import { type CommandReply, decodeReply } from '../../command-api/processor/reply';
import { createPaymentGateway, type PaymentGateway } from '../../infra/payment-gateway/app';
import { behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { createKafkaClient, readToEnd } from '../../lib/kafka';
import { topicNames } from '../../lib/topics';
import { type Projectors, startProjectors } from '../../projectors/service';
import {
  call,
  envOf,
  type RunningCommandApi,
  readEvents,
  type StoredEvent,
  startCommandApi,
  tokenFor,
} from './command-api';
import { type ServiceProcess, startServiceProcess } from './service-process';
import { eventually, freePort, silentLogger } from './test-env';

export interface SagaHarnessOptions {
  /**
   * `process`: the command API runs as its own process and stops as deployed, on SIGTERM, which
   * it answers by exiting within its own bound. In this process, its stop waits for every Kafka
   * transaction call under way (a client destroyed under one deadlocks), and after a broker's
   * failure one such call has been seen not to return for minutes.
   */
  commandApi?: 'in-process' | 'process';
}

/**
 * Projectors and payment gateway in this process, the command API too unless `options` say
 * otherwise; the saga as its own process.
 */
export class SagaHarness {
  commands!: Pick<RunningCommandApi, 'url' | 'stop'>;
  projectors!: Projectors;
  gateway!: PaymentGateway;
  gatewayServer!: RunningServer;
  sagas: ServiceProcess[] = [];
  admin = '';

  constructor(
    readonly config: Config,
    private readonly options: SagaHarnessOptions = {},
  ) {}

  async start(): Promise<void> {
    this.commands =
      this.options.commandApi === 'process'
        ? await this.startCommandApiProcess()
        : await startCommandApi(this.config);
    this.projectors = await startProjectors(this.config, silentLogger());
    this.gateway = createPaymentGateway({
      logger: silentLogger(),
      behaviour: { ...behaviourFromConfig(this.config.paymentGateway), latencyMs: 5 },
      bodyLimit: '100kb',
      healthTimeoutMs: 1000,
    });
    this.gatewayServer = await listen(this.gateway.app, '127.0.0.1', 0);
    this.admin = await tokenFor(this.config, 'admin', 'alice');
  }

  private async startCommandApiProcess(): Promise<Pick<RunningCommandApi, 'url' | 'stop'>> {
    const port = await freePort();
    const api = startServiceProcess('command-api/main.ts', port, {
      ...envOf(this.config),
      COMMAND_API_PORT: String(port),
      COMMAND_TIMEOUT_MS: String(this.config.commands.timeoutMs),
    });
    await api.waitForLog((l) => l.msg === 'command-api listening', 120_000);
    return { url: api.url, stop: () => api.kill('SIGTERM') };
  }

  sagaEnv(): NodeJS.ProcessEnv {
    const c = this.config;
    return {
      ...envOf(c),
      PAYMENT_GATEWAY_URL: this.gatewayServer.url,
      SAGA_RETRY_DELAYS_MS: c.topics.sagaRetryDelaysMs.join(','),
      SAGA_DEADLINE_MS: String(c.saga.deadlineMs),
      SAGA_BREAKER_COOLDOWN_MS: String(c.saga.breakerCooldownMs),
      SAGA_BREAKER_THRESHOLD: String(c.saga.breakerThreshold),
      SAGA_GATEWAY_TIMEOUT_MS: String(c.saga.gatewayTimeoutMs),
      COMMAND_SESSION_TIMEOUT_MS: '6000',
    };
  }

  async startSaga(): Promise<ServiceProcess> {
    const saga = startServiceProcess('sagas/main.ts', 0, this.sagaEnv());
    this.sagas.push(saga);
    await saga.waitForLog((l) => l.msg === 'sagas running');
    return saga;
  }

  async stop(): Promise<void> {
    await Promise.all(this.sagas.map((s) => s.kill('SIGKILL')));
    await this.gatewayServer?.close();
    this.gateway?.stop();
    await this.projectors?.stop();
    await this.commands?.stop();
  }

  async createProduct(stock: number, sku = `SKU-${Math.random()}`): Promise<string> {
    const res = await call(this.commands.url, 'POST', '/products', {
      token: this.admin,
      body: {
        sku,
        name: sku,
        category: 'sale',
        price: { amount: 1000, currency: 'EUR' },
        initialStock: stock,
      },
    });
    if (res.status !== 201) throw new Error(`create product: ${res.status} ${res.text}`);
    return res.body.aggregateId as string;
  }

  /**
   * Places an order as a careful client does: with an Idempotency-Key, retrying a request whose
   * connection broke, or that was refused with 503 under load after its Retry-After (the retry
   * gets the first outcome, never a second order).
   */
  async placeOrder(customer: string, productId: string, quantity = 1): Promise<string> {
    const token = await tokenFor(this.config, 'customer', customer);
    const headers = { 'Idempotency-Key': `order-${customer}-${productId}-${quantity}` };
    for (let attempt = 1; ; attempt += 1) {
      try {
        const res = await call(this.commands.url, 'POST', '/orders', {
          token,
          headers,
          body: { items: [{ productId, quantity }] },
        });
        if (res.status === 503 && attempt < 60) {
          const seconds = Number(res.headers.get('retry-after') ?? '1');
          await new Promise((r) => setTimeout(r, Math.min(seconds, 1) * 1000 * Math.random()));
          continue;
        }
        if (res.status !== 201) throw new Error(`place order: ${res.status} ${res.text}`);
        return res.body.aggregateId as string;
      } catch (err) {
        // fetch's TypeError comes from Node's realm, not the test's: match on the message.
        const broken = (err as Error | undefined)?.message === 'fetch failed';
        if (!broken || attempt >= 5) throw err;
      }
    }
  }

  orderEvents(): Promise<StoredEvent[]> {
    return readEvents(this.config, topicNames(this.config.topics).orderEvents);
  }

  productEvents(): Promise<StoredEvent[]> {
    return readEvents(this.config, topicNames(this.config.topics).productEvents);
  }

  /** Every committed outcome of an order command (accepted or rejected), in log order per partition. */
  async orderReplies(): Promise<CommandReply[]> {
    const topic = topicNames(this.config.topics).orderReplies;
    const replies: CommandReply[] = [];
    await readToEnd(
      createKafkaClient(this.config),
      Array.from({ length: this.config.topics.partitions }, (_, partition) => ({
        topic,
        partition,
      })),
      ({ records }) => {
        for (const record of records) replies.push(decodeReply(record.value));
      },
    );
    return replies;
  }

  /** Waits until every order has a terminal event (confirmed or cancelled); returns the order events. */
  async settled(orderIds: string[], timeoutMs = 120_000): Promise<Map<string, StoredEvent[]>> {
    const byOrder = new Map<string, StoredEvent[]>();
    await eventually(
      async () => {
        byOrder.clear();
        for (const e of await this.orderEvents()) {
          const list = byOrder.get(e.aggregateId) ?? [];
          list.push(e);
          byOrder.set(e.aggregateId, list);
        }
        return orderIds.filter(
          (id) =>
            !(byOrder.get(id) ?? []).some(
              (e) => e.type === 'OrderConfirmed' || e.type === 'OrderCancelled',
            ),
        ).length;
      },
      (unsettled) => unsettled === 0,
      timeoutMs,
    );
    return byOrder;
  }
}

export const typesOf = (events: StoredEvent[] | undefined) => (events ?? []).map((e) => e.type);
