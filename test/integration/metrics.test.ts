import type { Config } from '../../lib/config';
import { serveOps } from '../../lib/http/ops-server';
import type { RunningServer } from '../../lib/http/serve';
import { PROJECTION_NAMES } from '../../projectors/projections';
import { reportProjectorMetrics, startProjectors } from '../../projectors/service';
import { call, envOf, isolatedConfig, tokenFor } from '../support/command-api';
import { samples, scrape, total } from '../support/prometheus';
import { type ServiceProcess, startServiceProcess } from '../support/service-process';
import { eventually, freePort, silentLogger } from '../support/test-env';

/** Every process of the system, each its own OS process, each answering /metrics. */
describe('Prometheus metrics', () => {
  let config: Config;
  const urls: Record<string, string> = {};
  const processes: Record<string, ServiceProcess> = {};
  let admin: string;

  beforeAll(async () => {
    config = await isolatedConfig('metrics', {}, { stores: true });
    const ports = {
      command: await freePort(),
      query: await freePort(),
      gateway: await freePort(),
      projectors: await freePort(),
      sagas: await freePort(),
    };
    const env = {
      ...envOf(config),
      COMMAND_API_PORT: String(ports.command),
      QUERY_API_PORT: String(ports.query),
      PAYMENT_GATEWAY_PORT: String(ports.gateway),
      PROJECTORS_PORT: String(ports.projectors),
      SAGAS_PORT: String(ports.sagas),
      PAYMENT_LATENCY_MS: '0',
    };
    const started: [string, string, number, string][] = [
      ['command-api', 'command-api/main.ts', ports.command, 'command-api listening'],
      ['query-api', 'query-api/main.ts', ports.query, 'query-api listening'],
      [
        'payment-gateway',
        'infra/payment-gateway/main.ts',
        ports.gateway,
        'payment-gateway listening',
      ],
      ['projectors', 'projectors/main.ts', ports.projectors, 'projectors running'],
      ['sagas', 'sagas/main.ts', ports.sagas, 'sagas running'],
    ];
    for (const [name, entry, port] of started) {
      processes[name] = startServiceProcess(entry, port, env);
      urls[name] = `http://127.0.0.1:${port}`;
    }
    await Promise.all(
      started.map(([name, , , running]) =>
        processes[name]?.waitForLog((l) => l.msg === running, 90_000),
      ),
    );
    admin = await tokenFor(config, 'admin', 'metrics');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(processes).map((p) => p.kill('SIGKILL')));
  });

  const createProduct = async (sku: string) => {
    const res = await call(urls['command-api'] as string, 'POST', '/products', {
      token: admin,
      body: {
        sku,
        name: 'Mug',
        category: 'home',
        price: { amount: 900, currency: 'EUR' },
        initialStock: 3,
      },
    });
    expect(res.status).toBe(201);
  };

  it('answers /metrics on every process in Prometheus text, each with what it measures', async () => {
    await createProduct('METRICS-1');
    const scraped = Object.fromEntries(
      await Promise.all(
        Object.entries(urls).map(async ([name, url]) => [name, await scrape(url)] as const),
      ),
    );
    for (const { families } of Object.values(scraped)) {
      expect(families.get('orderstream_process_cpu_user_seconds_total')?.type).toBe('COUNTER');
      expect(families.get('orderstream_http_request_duration_seconds')?.type).toBe('HISTOGRAM');
    }
    const command = scraped['command-api'];
    if (!command) throw new Error('no command-api metrics');
    // The request that created the product, by route pattern and status.
    expect(
      samples(command, 'orderstream_http_request_duration_seconds_count', {
        route: '/products',
        method: 'POST',
        status: '201',
      }).map((s) => s.value),
    ).toEqual([1]);
    expect(
      total(command, 'orderstream_commands_total', { type: 'CreateProduct', outcome: 'accepted' }),
    ).toBe(1);
    expect(total(command, 'orderstream_kafka_transaction_records_count')).toBeGreaterThan(0);
    expect(total(command, 'orderstream_kafka_transaction_duration_seconds_count')).toBeGreaterThan(
      0,
    );
    const commandGroups = new Set(
      samples(command, 'orderstream_consumer_lag').map((s) => s.labels?.group),
    );
    expect([...commandGroups]).toEqual([`${config.topics.prefix}.command-processor`]);

    const sagas = scraped.sagas;
    if (!sagas) throw new Error('no sagas metrics');
    expect(
      samples(sagas, 'orderstream_circuit_breaker_state', { dependency: 'payment-gateway' }),
    ).toEqual([expect.objectContaining({ value: 0 })]);
    expect(new Set(samples(sagas, 'orderstream_consumer_lag').map((s) => s.labels?.group))).toEqual(
      new Set(
        ['fulfilment', 'reservations', 'retries'].map((g) => `${config.topics.prefix}.saga.${g}`),
      ),
    );
    expect(samples(sagas, 'orderstream_dead_letter_records').map((s) => s.labels?.topic)).toEqual([
      `${config.topics.prefix}.saga.dlq`,
    ]);
    const projectors = scraped.projectors;
    if (!projectors) throw new Error('no projectors metrics');
    expect(
      new Set(samples(projectors, 'orderstream_consumer_lag').map((s) => s.labels?.group)),
    ).toEqual(new Set(PROJECTION_NAMES.map((p) => `${config.topics.prefix}.projection.${p}.g1`)));
  });

  it("shows a projection's lag growing while its projector is stopped and back at 0 once it caught up", async () => {
    // The projectors process's reporting and port, with its projections' consumers apart.
    const logger = silentLogger();
    const stopReporting = reportProjectorMetrics(config, logger);
    const ops: RunningServer = await serveOps(config, logger, 0, 'PROJECTORS_PORT', []);
    const lag = async () => total(await scrape(ops.url), 'orderstream_consumer_lag');
    try {
      expect(await eventually(lag, (n) => n === 0, 30_000)).toBe(0);
      await processes.projectors?.kill('SIGTERM');
      for (const i of [2, 3, 4]) await createProduct(`METRICS-${i}`);
      // Three events, each behind in both projections.
      expect(await eventually(lag, (n) => n >= 6, 10_000)).toBeGreaterThanOrEqual(6);
      const projectors = await startProjectors(config, logger);
      try {
        expect(await eventually(lag, (n) => n === 0, 30_000)).toBe(0);
      } finally {
        await projectors.stop();
      }
    } finally {
      await ops.close();
      await stopReporting();
    }
  }, 90_000);

  it('answers /metrics with a 404 problem in a process started with METRICS_ENABLED=false', async () => {
    const port = await freePort();
    const gateway = startServiceProcess('infra/payment-gateway/main.ts', port, {
      ...envOf(config),
      PAYMENT_GATEWAY_PORT: String(port),
      METRICS_ENABLED: 'false',
    });
    try {
      await gateway.waitForLog((l) => l.msg === 'payment-gateway listening', 60_000);
      const live = await fetch(`${gateway.url}/health/live`);
      expect(live.status).toBe(200);
      const res = await fetch(`${gateway.url}/metrics`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        status: 404,
        detail: 'Metrics are off in this process (METRICS_ENABLED=false)',
      });
    } finally {
      await gateway.kill('SIGKILL');
    }
  }, 90_000);
});
