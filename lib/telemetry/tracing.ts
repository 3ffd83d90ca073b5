/**
 * The one place the OpenTelemetry SDK is started (issue 12, DESIGN §7). A process's main
 * imports ./register first, before anything the instrumentations patch (http, express, pg,
 * ioredis) is loaded; tests start it with an in-memory exporter instead.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { Config } from '../config';
import { onTracingShutdown } from './trace-context';

export interface TracingOptions {
  /** Spans go here instead of the configured exporter, each as it ends (tests). */
  exporter?: SpanExporter;
  /** Patch http, express, pg and ioredis (default true; a test's module loader can't). */
  instrument?: boolean;
}

function configuredExporter(tracing: Config['tracing']): SpanExporter | undefined {
  switch (tracing.exporter) {
    case 'otlp':
      // Reads OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) and its headers itself.
      return new OTLPTraceExporter();
    case 'zipkin':
      return new ZipkinExporter({ url: tracing.zipkinEndpoint });
    case 'console':
      return new ConsoleSpanExporter();
    case 'none':
      return undefined;
  }
}

/** Probes and scrapes are not traced: they would bury the requests that matter. */
const OPS_PATHS = /^\/(health\/|metrics$)/;

/**
 * What the instrumentations record, kept to what a trace needs (each span costs CPU on the
 * write path: see the bench's tracing part): the request, named by its route, not every express
 * middleware or handler; database and Redis calls only inside a traced piece of work.
 */
function instrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => OPS_PATHS.test(req.url ?? ''),
      requireParentforOutgoingSpans: true,
    }),
    new ExpressInstrumentation({
      // The route still names the request's span; a span per handler only repeated it.
      ignoreLayersType: [
        ExpressLayerType.MIDDLEWARE,
        ExpressLayerType.ROUTER,
        ExpressLayerType.REQUEST_HANDLER,
      ],
    }),
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
  ];
}

/**
 * Starts tracing for `service` when an exporter is configured (or given); otherwise nothing is
 * loaded or patched and the services' spans are the API's no-ops. Returns whether it started.
 */
export function startTracing(
  service: string,
  tracing: Config['tracing'],
  options: TracingOptions = {},
): boolean {
  const exporter = options.exporter ?? configuredExporter(tracing);
  if (!exporter) return false;
  const sdk = new NodeSDK({
    serviceName: tracing.serviceName ?? service,
    spanProcessors: [
      options.exporter
        ? new SimpleSpanProcessor({ exporter })
        : new BatchSpanProcessor({ exporter }),
    ],
    instrumentations: options.instrument === false ? [] : instrumentations(),
    // Traces only: metrics are prom-client's (/metrics) and logs pino's. Left unset, the SDK
    // reads OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER, whose default (otlp) recorded a
    // histogram on every HTTP request and pushed metrics and logs to a collector nobody runs.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  onTracingShutdown(() => sdk.shutdown());
  return true;
}
