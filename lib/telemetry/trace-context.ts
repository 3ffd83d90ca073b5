/**
 * Trace context across Kafka (DESIGN §7): the W3C `traceparent`/`tracestate` pair that the
 * codec writes as record headers of commands and events, made from and turned back into
 * OpenTelemetry contexts. API-only: with tracing off (no SDK started) every span here is a
 * non-recording one and no header is written, at next to no cost.
 */
import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** The W3C trace context a command or event carries (absent fields: not traced). */
export interface TraceHeaders {
  traceparent?: string;
  tracestate?: string;
}

/** The services' tracer names: a span's instrumentation scope tells which service made it. */
export const TRACERS = {
  commandApi: 'orderstream.command-api',
  projectors: 'orderstream.projectors',
  sagas: 'orderstream.sagas',
} as const;

/** The trace context of `ctx` (the active one by default), for a record's headers. */
export function traceHeadersOf(ctx: Context = context.active()): TraceHeaders {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const { traceparent, tracestate } = carrier;
  return {
    ...(traceparent ? { traceparent } : {}),
    ...(tracestate ? { tracestate } : {}),
  };
}

/** The context a record's trace headers continue (the root context when it has none). */
export function contextOf(headers: TraceHeaders): Context {
  const carrier: Record<string, string> = {};
  if (headers.traceparent) carrier.traceparent = headers.traceparent;
  if (headers.tracestate) carrier.tracestate = headers.tracestate;
  return propagation.extract(context.active(), carrier);
}

/** A span continuing the trace a record carries (consumer side of a Kafka hop). */
export function startConsumerSpan(
  tracer: string,
  name: string,
  headers: TraceHeaders,
  attributes: Record<string, string | number> = {},
): Span {
  return trace
    .getTracer(tracer)
    .startSpan(name, { kind: SpanKind.CONSUMER, attributes }, contextOf(headers));
}

/**
 * One span for a batch of records (consumer side of a Kafka hop): it continues the trace of the
 * first record that carries one and links the others' traces, so a busy consumer records one
 * span per batch instead of one per record.
 */
export function startBatchConsumerSpan(
  tracer: string,
  name: string,
  records: TraceHeaders[],
  attributes: Record<string, string | number> = {},
): Span {
  const traced = records.filter((headers) => headers.traceparent);
  const [first, ...rest] = traced;
  const links = rest.flatMap((headers) => {
    const spanContext = trace.getSpanContext(contextOf(headers));
    return spanContext ? [{ context: spanContext }] : [];
  });
  return trace
    .getTracer(tracer)
    .startSpan(name, { kind: SpanKind.CONSUMER, attributes, links }, contextOf(first ?? {}));
}

/** The context in which `span` is the active one, e.g. to encode the records it causes. */
export const contextWith = (span: Span): Context => trace.setSpan(context.active(), span);

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `work` in a new active span of `tracer` (a child of the active one), ending it after. */
export async function inSpan<T>(
  tracer: string,
  name: string,
  kind: SpanKind,
  work: () => Promise<T>,
): Promise<T> {
  return trace.getTracer(tracer).startActiveSpan(name, { kind }, async (span) => {
    try {
      const result = await work();
      endSpan(span);
      return result;
    } catch (err) {
      endSpan(span, err);
      throw err;
    }
  });
}

let shutdownHook: (() => Promise<void>) | undefined;

/** Set by the SDK's start (tracing.ts): how to export the spans still buffered at exit. */
export function onTracingShutdown(hook: () => Promise<void>): void {
  shutdownHook = hook;
}

/** Exports the buffered spans and stops tracing (a process's stop calls it; no-op when off). */
export async function shutdownTracing(): Promise<void> {
  const hook = shutdownHook;
  shutdownHook = undefined;
  await hook?.();
}

/** Just the trace fields of a context or metadata object (absent ones left out). */
export const traceFieldsOf = ({ traceparent, tracestate }: TraceHeaders): TraceHeaders => ({
  ...(traceparent ? { traceparent } : {}),
  ...(tracestate ? { tracestate } : {}),
});
