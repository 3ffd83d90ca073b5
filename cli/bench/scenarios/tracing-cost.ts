import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stackCpuTargets } from '../cpu-targets';
import type { E2eContext } from '../e2e-context';
import { waitUntilQuiet } from '../quiet';
import { measureThroughput, type ThroughputResult } from './throughput';

export interface TracingCostResult {
  /** POST /orders max throughput with tracing and metrics off: the mean of its two legs. */
  offPerSec: number;
  /** The same with metrics on and every service tracing (SDK, instrumentations, Zipkin export). */
  tracedPerSec: number;
  /** traced ÷ off: 1 is free, 0.9 costs 10 %. */
  ratio: number | null;
  /** With metrics on and only SAMPLED of the traces recorded (parentbased_traceidratio). */
  sampledPerSec: number;
  sampledRatio: number | null;
  sampled: number;
  /** Stack CPU ms per acknowledged order: off, every trace, sampled. */
  offCpuMsPerOrder: number | null;
  tracedCpuMsPerOrder: number | null;
  sampledCpuMsPerOrder: number | null;
  /** Each process's CPU ms per acknowledged order, off and with every trace (where the cost is). */
  cpuMsPerOrderByProcess: Record<string, { off: number | null; on: number | null }>;
  /** Every leg in the order run (the spread between a setting's two legs is the noise). */
  legs: { setting: Setting; perSec: number; stackCpuMsPerOrder: number | null }[];
  /** Spans the services exported during the traced legs (shows tracing was on). */
  spansExported: number;
}

type Setting = 'off' | 'on' | 'sampled';

/** The settings the bench starts the stack with (run-names.ts): tracing off, metrics on. */
const AS_STARTED = {
  OTEL_TRACES_EXPORTER: 'none',
  OTEL_TRACES_SAMPLER: 'parentbased_always_on',
  METRICS_ENABLED: 'true',
};

/** The share of traces the sampled run records. */
const SAMPLED = 0.1;

/**
 * Stands in for Zipkin: takes POST /api/v2/spans (JSON arrays of spans) and counts them, so the
 * traced run pays the whole export (serialising, HTTP) without a Zipkin server to run.
 */
async function spanSink(): Promise<{ url: string; spans: () => number; close: () => void }> {
  let spans = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        if (Array.isArray(body)) spans += body.length;
      } catch {
        // not a span list: not counted
      }
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v2/spans`,
    spans: () => spans,
    close: () => server.close(),
  };
}

/** The mean of legs' figures (null where any leg has none). */
function mean(values: (number | null)[]): number | null {
  if (values.some((v) => v === null)) return null;
  return (values as number[]).reduce((sum, v) => sum + v, 0) / values.length;
}

/**
 * What tracing and metrics cost in write throughput (issue 12 asks ≤ 10 %): the max-throughput
 * closed loop on the stack restarted with both off (OTEL_TRACES_EXPORTER=none,
 * METRICS_ENABLED=false), with metrics on and every trace recorded (OTEL_TRACES_EXPORTER=zipkin)
 * and with metrics on and 1 trace in 10 recorded, each after its warm-up. The legs run in the order
 * off, on, sampled, sampled, on, off and each setting's figure is the mean of its two legs:
 * the stack slows as its topics and tables fill, and a drift that grows steadily over the run
 * then weighs the same on every setting instead of on whichever ran last.
 */
export async function measureTracingCost(ctx: E2eContext): Promise<TracingCostResult> {
  const sink = await spanSink();
  // Each on a stack just started, after the same warm-up: none has a head start.
  const restart = async (env: NodeJS.ProcessEnv) => {
    ctx.say(
      `e2e: restarting the stack with OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} (${env.OTEL_TRACES_SAMPLER ?? 'no sampler'}), METRICS_ENABLED=${env.METRICS_ENABLED}…`,
    );
    // The last leg's orders are settled first, not by the next leg's processes on its CPU.
    await waitUntilQuiet(ctx.admin, ctx.topics, 3000, 60_000);
    await ctx.stack.restart(env);
    await ctx.stack.waitUntilReady(120_000);
    ctx.cpuTargets = stackCpuTargets(ctx.config, ctx.stack.pids());
  };
  const restarted = async (env: NodeJS.ProcessEnv) => {
    await restart(env);
    return measureThroughput(ctx);
  };
  const tracing = {
    OTEL_TRACES_EXPORTER: 'zipkin',
    OTEL_EXPORTER_ZIPKIN_ENDPOINT: sink.url,
    METRICS_ENABLED: 'true',
  };
  const settings = {
    off: { OTEL_TRACES_EXPORTER: 'none', METRICS_ENABLED: 'false' },
    on: { ...tracing, OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
    sampled: {
      ...tracing,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(SAMPLED),
    },
  };
  const order = ['off', 'on', 'sampled', 'sampled', 'on', 'off'] as const;
  try {
    const legs: Record<Setting, ThroughputResult[]> = { off: [], on: [], sampled: [] };
    const run: TracingCostResult['legs'] = [];
    let spansExported = 0;
    for (const setting of order) {
      const before = sink.spans();
      const leg = await restarted(settings[setting]);
      legs[setting].push(leg);
      run.push({
        setting,
        perSec: leg.acknowledgedPerSec,
        stackCpuMsPerOrder: leg.stackCpuMsPerOrder,
      });
      if (setting === 'on') spansExported += sink.spans() - before;
    }
    const perSec = (setting: Setting) => mean(legs[setting].map((l) => l.acknowledgedPerSec)) ?? 0;
    const cpu = (setting: Setting) => mean(legs[setting].map((l) => l.stackCpuMsPerOrder));
    const processCpu = (setting: Setting, name: string) => {
      const figure = mean(legs[setting].map((l) => l.cpuMsPerOrder[name] ?? null));
      return figure === null ? null : Math.round(figure * 100) / 100;
    };
    const processes = Object.keys(legs.off[0]?.cpuMsPerOrder ?? {});
    const off = perSec('off');
    const ratio = (value: number) => (off > 0 ? Math.round((value / off) * 1000) / 1000 : null);
    return {
      offPerSec: off,
      tracedPerSec: perSec('on'),
      ratio: ratio(perSec('on')),
      sampledPerSec: perSec('sampled'),
      sampledRatio: ratio(perSec('sampled')),
      sampled: SAMPLED,
      offCpuMsPerOrder: cpu('off'),
      tracedCpuMsPerOrder: cpu('on'),
      sampledCpuMsPerOrder: cpu('sampled'),
      cpuMsPerOrderByProcess: Object.fromEntries(
        processes.map((name) => [
          name,
          { off: processCpu('off', name), on: processCpu('on', name) },
        ]),
      ),
      legs: run,
      spansExported,
    };
  } finally {
    sink.close();
    // The parts after this one measure the stack as the run started it.
    if (!ctx.stack.died) await restart(AS_STARTED);
  }
}
