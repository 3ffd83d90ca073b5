import { metrics } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { createPaymentGateway, type PaymentGateway } from '../../infra/payment-gateway/app';
import { behaviourFromConfig } from '../../infra/payment-gateway/behaviour';
import type { Config } from '../../lib/config';
import { listen, type RunningServer } from '../../lib/http/serve';
import { shutdownTracing, TRACERS } from '../../lib/telemetry/trace-context';
import { startTracing } from '../../lib/telemetry/tracing';
import { type Projectors, startProjectors } from '../../projectors/service';
import { type Sagas, startSagas } from '../../sagas/service';
import {
  call,
  isolatedConfig,
  type RunningCommandApi,
  startCommandApi,
  tokenFor,
} from '../support/command-api';
import { eventually, runConfig, silentLogger } from '../support/test-env';

/**
 * One HTTP command, traced end to end through Kafka: the command-api's spans, the projectors'
 * and the saga's share its trace id, carried only by the records' `traceparent` headers.
 */
describe('tracing across Kafka', () => {
  const spans = new InMemorySpanExporter();
  let config: Config;
  let gateway: PaymentGateway;
  let gatewayServer: RunningServer;
  let commands: RunningCommandApi;
  let projectors: Projectors;
  let sagas: Sagas;

  beforeAll(async () => {
    // In-process services, spans kept in memory (jest's loader cannot take the patching).
    startTracing('orderstream-test', runConfig().tracing, { exporter: spans, instrument: false });
    gateway = createPaymentGateway({
      logger: silentLogger(),
      behaviour: { ...behaviourFromConfig(runConfig().paymentGateway), latencyMs: 1 },
      bodyLimit: '100kb',
      healthTimeoutMs: 1000,
    });
    gatewayServer = await listen(gateway.app, '127.0.0.1', 0);
    config = await isolatedConfig(
      'tracing',
      { PAYMENT_GATEWAY_URL: gatewayServer.url },
      { stores: true },
    );
    commands = await startCommandApi(config);
    projectors = await startProjectors(config, silentLogger());
    sagas = await startSagas(config, silentLogger());
  }, 120_000);

  afterAll(async () => {
    await sagas?.stop();
    await projectors?.stop();
    await commands?.stop();
    await gatewayServer?.close();
    gateway?.stop();
    await shutdownTracing();
  });

  const named = (scope: string, name: string, traceId?: string) =>
    spans
      .getFinishedSpans()
      .filter(
        (s: ReadableSpan) =>
          s.instrumentationScope.name === scope &&
          s.name === name &&
          (traceId === undefined || s.spanContext().traceId === traceId),
      );

  it('records traces only: no OpenTelemetry metrics beside prom-client, whatever OTEL_METRICS_EXPORTER defaults to', () => {
    // The SDK's own default would add a meter provider (otlp), recording a histogram on every
    // HTTP request and pushing it to a collector nobody runs.
    expect(metrics.getMeterProvider().constructor.name).toBe('NoopMeterProvider');
  });

  it('one placed order: command-api, projector and saga spans in one trace', async () => {
    const admin = await tokenFor(config, 'admin', 'tracing');
    const product = await call(commands.url, 'POST', '/products', {
      token: admin,
      body: {
        sku: 'TRACE-1',
        name: 'Traced mug',
        category: 'home',
        price: { amount: 900, currency: 'EUR' },
        initialStock: 5,
      },
    });
    expect(product.status).toBe(201);
    spans.reset();
    const customer = await tokenFor(config, 'customer', 'tracer');
    const order = await call(commands.url, 'POST', '/orders', {
      token: customer,
      body: { items: [{ productId: product.body.aggregateId, quantity: 1 }] },
    });
    expect(order.status).toBe(201);

    const [sent] = named(TRACERS.commandApi, 'send PlaceOrder');
    const traceId = sent?.spanContext().traceId as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // The owner's decision, in this process (the HTTP handler handed it over in memory).
    expect(named(TRACERS.commandApi, 'decide PlaceOrder', traceId)).toHaveLength(1);
    // Across the order events' headers: the projectors and the saga continue the trace.
    const across = await eventually(
      async () => ({
        projected: named(TRACERS.projectors, 'project OrderPlaced', traceId).length,
        reacted: named(TRACERS.sagas, 'react OrderPlaced', traceId).length,
        // The saga's ReserveStock crosses the product commands topic to its owner.
        reserved: named(TRACERS.commandApi, 'decide ReserveStock', traceId),
      }),
      (a) => a.projected > 0 && a.reacted > 0 && a.reserved.length > 0,
      60_000,
    );
    expect(across.projected).toBeGreaterThan(0);
    expect(across.reacted).toBe(1);
    expect(across.reserved).toHaveLength(1);
    expect(across.reserved[0]?.attributes['orderstream.sent']).toBe('commands topic');
    // …and the reaction to the reservation goes on to the payment gateway call.
    const paid = await eventually(
      async () => named(TRACERS.sagas, 'payment authorize-payment', traceId).length,
      (n) => n > 0,
      60_000,
    );
    expect(paid).toBe(1);
  });
});
