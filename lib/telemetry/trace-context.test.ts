import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { endSpan, startBatchConsumerSpan } from './trace-context';

const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const C = 'c'.repeat(32);

describe('startBatchConsumerSpan', () => {
  const exporter = new InMemorySpanExporter();

  beforeAll(() => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
  });
  afterAll(() => {
    trace.disable();
    propagation.disable();
  });
  beforeEach(() => exporter.reset());

  it("continues the first traced record's trace and links the others'", () => {
    const span = startBatchConsumerSpan('test', 'project 3 events', [
      {},
      { traceparent: traceparent(A, '1'.repeat(16)) },
      { traceparent: traceparent(B, '2'.repeat(16)) },
      { traceparent: traceparent(C, '3'.repeat(16)) },
    ]);
    endSpan(span);
    const [recorded] = exporter.getFinishedSpans();
    expect(recorded?.spanContext().traceId).toBe(A);
    expect(recorded?.parentSpanContext?.spanId).toBe('1'.repeat(16));
    expect(recorded?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [B, '2'.repeat(16)],
      [C, '3'.repeat(16)],
    ]);
  });

  it('starts a trace of its own when no record carries one', () => {
    endSpan(startBatchConsumerSpan('test', 'project 1 events', [{}]));
    const [recorded] = exporter.getFinishedSpans();
    expect(recorded?.parentSpanContext).toBeUndefined();
    expect(recorded?.links).toEqual([]);
  });
});
