import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { loadConfig } from '../config';

function configuredOn(): boolean {
  try {
    return loadConfig().metricsEnabled;
  } catch {
    return true; // the main reports the bad configuration itself
  }
}

/**
 * Whether this process records and serves metrics (`METRICS_ENABLED`, on by default). Off,
 * nothing is registered or collected and `/metrics` answers 404; the bench's tracing part
 * measures the stack both ways.
 */
export const metricsEnabled = configuredOn();

/**
 * The process's Prometheus metrics (DESIGN §7), served as text at `/metrics`. One registry per
 * process: every service in it (tests run several in one) adds to the same series, told apart
 * by their labels. The README's Observability section lists them.
 */
export const registry = new Registry();
if (metricsEnabled)
  collectDefaultMetrics({
    register: registry,
    prefix: 'orderstream_',
    // The event-loop lag is sampled by a timer of this period; at prom-client's 10 ms it woke
    // every idle process 100 times a second (about 0.9 % of a core each). 100 ms still catches
    // a blocked loop, for a tenth of that.
    eventLoopMonitoringPrecision: 100,
  });

/** Where a metric registers: nowhere with metrics off (its updates then go unread). */
export const registers = metricsEnabled ? [registry] : [];
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpDuration = new Histogram({
  name: 'orderstream_http_request_duration_seconds',
  help: 'HTTP request latency by service, method, route and status',
  labelNames: ['service', 'method', 'route', 'status'] as const,
  buckets: SECONDS,
  registers,
});

export const commandOutcomes = new Counter({
  name: 'orderstream_commands_total',
  help: 'Commands decided by their partition owner, by type and outcome (accepted, rejected, repeat, failed)',
  labelNames: ['type', 'outcome'] as const,
  registers,
});

export const transactionRecords = new Histogram({
  name: 'orderstream_kafka_transaction_records',
  help: 'Records sent in one committed Kafka transaction',
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  registers,
});

export const transactionDuration = new Histogram({
  name: 'orderstream_kafka_transaction_duration_seconds',
  help: 'Time from beginning a Kafka transaction to its commit (retries included)',
  buckets: SECONDS,
  registers,
});

export const projectionApplied = new Counter({
  name: 'orderstream_projection_events_applied_total',
  help: 'Events applied by a projection (rate() of it is the apply rate)',
  labelNames: ['projection'] as const,
  registers,
});

export const sagaOutcomes = new Counter({
  name: 'orderstream_saga_outcomes_total',
  help: 'Orders the fulfilment saga brought to an end, by outcome (confirmed, cancelled)',
  labelNames: ['outcome'] as const,
  registers,
});

export const gatewayDuration = new Histogram({
  name: 'orderstream_payment_gateway_call_duration_seconds',
  help: 'Payment gateway calls seen by the saga, by operation and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: SECONDS,
  registers,
});

export { Gauge };
