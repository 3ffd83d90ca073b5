import { ratios, reportRows } from './report';
import type { BenchResults } from './results';
import { renderTable } from './table';

const latency = { count: 10, p50: 12, p90: 30, p99: 45.5, max: 60, overOneSecond: 0 };

function results(overrides: Partial<BenchResults> = {}): BenchResults {
  return {
    date: '2025-01-01T00:00:00.000Z',
    runId: 'r1',
    quick: false,
    parts: ['raw', 'throughput', 'overload', 'flash-sale'],
    machine: {
      cpus: 2,
      cpuModel: 'cpu',
      memoryMb: 4096,
      os: 'Linux',
      loadAverageStart: 1,
      loadAverageEnd: 2,
    },
    node: 'v20.19.0',
    adapter: 'confluent',
    adapterChosenBy: 'auto',
    raw: [
      {
        adapter: 'kafkajs',
        transactions1: {
          producers: 1,
          messagesPerTransaction: 1,
          transactions: 50,
          ms: 5000,
          txPerSec: 10,
        },
        errors: [],
      },
      {
        adapter: 'confluent',
        produce: { messages: 1000, sendSize: 500, sendsInFlight: 8, ms: 100, msgsPerSec: 10_000 },
        transactions1: {
          producers: 1,
          messagesPerTransaction: 1,
          transactions: 1000,
          ms: 5000,
          txPerSec: 200,
        },
        transactions6: {
          producers: 6,
          messagesPerTransaction: 1,
          transactions: 4000,
          ms: 5000,
          txPerSec: 800,
        },
        errors: ['consume→produce: broker went away'],
      },
    ],
    e2e: {
      orderLines: 1,
      paymentLatencyMs: 20,
      commandTimeoutMs: 5000,
      stackStartMs: 15_000,
      throughput: {
        concurrency: 64,
        windowMs: 20_000,
        outcomes: { '201': 2000, '202': 10 },
        latency,
        acknowledged: 2000,
        acknowledgedPerSec: 100,
        cpuMs: { 'command-api': 4000 },
        cpuMsPerOrder: { 'command-api': 2 },
        stackCpuMsPerOrder: 2,
      },
      overload: {
        offeredPerSec: 300,
        planned: 9000,
        sent: 9000,
        shed: 0,
        outcomes: { '201': 3000, '500': 2 },
        latency: { ...latency, overOneSecond: 40 },
        acknowledgedPerSec: 100,
        elapsedMs: 31_000,
        loadGeneratorCorePercent: 12,
        capacityPerSec: 100,
        factor: 3,
        startedQuiet: true,
        noServerErrors: false,
      },
      flashSale: {
        buyers: 10_000,
        units: 100,
        startedQuiet: true,
        outcomes: { '201': 9_000 },
        unsent: 1000,
        retries: 0,
        answeredMs: 50_000,
        placed: 10_000,
        confirmed: 99,
        cancelled: 9900,
        unsettled: 1,
        allSettled: false,
        settledMs: null,
        exactlyUnitsConfirmed: false,
      },
    },
    errors: [],
    durationMs: 300_000,
    ...overrides,
  };
}

describe('the ratios of the end-to-end throughput to the raw baselines', () => {
  it('divides acknowledged orders/s by the raw figures of the adapter the stack ran with', () => {
    expect(ratios(results())).toEqual([
      { figure: '÷ raw tx/s, 1-message transactions, 1 producer', value: 0.5 },
      { figure: '÷ raw tx/s, 1-message transactions, 6 producers', value: 0.125 },
      { figure: '÷ raw msg/s, batched idempotent produce', value: 0.01 },
    ]);
  });

  it('has none without the stack’s adapter among the baselines, or without a throughput', () => {
    expect(ratios(results({ adapter: 'kafkajs', raw: [] }))).toEqual([]);
    expect(ratios(results({ e2e: undefined }))).toEqual([]);
  });
});

describe('the report table', () => {
  const text = renderTable(reportRows(results()));

  it('prints every section and figure it has', () => {
    expect(text).toContain('raw Kafka through the port: kafkajs (1 KB messages)');
    expect(text).toContain('raw Kafka through the port: confluent (1 KB messages)');
    expect(text).toMatch(/batched idempotent produce +10,000 msg\/s/);
    expect(text).toMatch(/transactions of 1 message, 6 producers +800 tx\/s/);
    expect(text).toMatch(/failed +consume→produce: broker went away/);
    expect(text).toContain('orders of 1 line');
    expect(text).toMatch(
      /Kafka adapter of the stack +confluent +KAFKA_CLIENT=confluent for every service/,
    );
    expect(text).toMatch(/POST \/orders max throughput \(201s\) +100\.0 orders\/s/);
    expect(text).toMatch(/÷ raw tx\/s, 1-message transactions, 6 producers +0\.13 +confluent/);
    expect(text).toMatch(/latency p50 \/ p99 \(closed loop\) +12 ms \/ 46 ms/);
  });

  it('marks a failed check as FAIL', () => {
    expect(text).toMatch(/500 answers +2 +FAIL/);
    expect(text).toMatch(/confirmed +99 +FAIL: expected exactly 100/);
    expect(text).toMatch(/flash sale: 10,000 buyers, 100 units +not settled/);
    expect(text).toMatch(/answers over 1 s \(or none\) +40/);
    expect(text).toContain('1,000 never sent (out of time)');
  });

  it('lists the parts that did not finish', () => {
    const withErrors = renderTable(reportRows(results({ errors: ['flash-sale: no product'] })));
    expect(withErrors).toContain('did not finish');
    expect(withErrors).toContain('flash-sale: no product');
  });
});
