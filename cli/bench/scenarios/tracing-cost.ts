import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { stackCpuTargets } from '../cpu-targets';
import type { E2eContext } from '../e2e-context';
import { measureThroughput } from './throughput';

export interface TracingCostResult {
  /** POST /orders max throughput with tracing off (metrics on, as always). */
  untracedPerSec: number;
  /** The same with every service tracing (SDK, instrumentations, Zipkin export). */
  tracedPerSec: number;
  /** traced ÷ untraced: 1 is free, 0.9 costs 10 %. */
  ratio: number | null;
  /** With only SAMPLED of the traces recorded (parentbased_traceidratio), and its ratio. */
  sampledPerSec: number;
  sampledRatio: number | null;
  sampled: number;
  /** Stack CPU ms per acknowledged order, off and on. */
  untracedCpuMsPerOrder: number | null;
  tracedCpuMsPerOrder: number | null;
  /** Spans the services exported during the traced run (shows tracing was on). */
  spansExported: number;
}

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

/**
 * What tracing costs in write throughput (issue 12 asks ≤ 10 %): the max-throughput closed
 * loop on the stack restarted with tracing off, then with OTEL_TRACES_EXPORTER=zipkin (every
 * trace recorded), then with 1 trace in 10 recorded, each after its warm-up. The stack stays
 * traced afterwards.
 */
export async function measureTracingCost(ctx: E2eContext): Promise<TracingCostResult> {
  const sink = await spanSink();
  // Both on a stack just started, after the same warm-up: neither has a head start.
  const restarted = async (env: NodeJS.ProcessEnv) => {
    ctx.say(`e2e: restarting the stack with OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER}…`);
    await ctx.stack.restart(env);
    await ctx.stack.waitUntilReady(120_000);
    ctx.cpuTargets = stackCpuTargets(ctx.config, ctx.stack.pids());
    return measureThroughput(ctx);
  };
  try {
    const off = await restarted({ OTEL_TRACES_EXPORTER: 'none' });
    const tracing = { OTEL_TRACES_EXPORTER: 'zipkin', OTEL_EXPORTER_ZIPKIN_ENDPOINT: sink.url };
    const on = await restarted({ ...tracing, OTEL_TRACES_SAMPLER: 'parentbased_always_on' });
    const spansExported = sink.spans();
    const sampled = await restarted({
      ...tracing,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(SAMPLED),
    });
    const ratio = (perSec: number) =>
      off.acknowledgedPerSec > 0
        ? Math.round((perSec / off.acknowledgedPerSec) * 1000) / 1000
        : null;
    return {
      untracedPerSec: off.acknowledgedPerSec,
      tracedPerSec: on.acknowledgedPerSec,
      ratio: ratio(on.acknowledgedPerSec),
      sampledPerSec: sampled.acknowledgedPerSec,
      sampledRatio: ratio(sampled.acknowledgedPerSec),
      sampled: SAMPLED,
      untracedCpuMsPerOrder: off.stackCpuMsPerOrder,
      tracedCpuMsPerOrder: on.stackCpuMsPerOrder,
      spansExported,
    };
  } finally {
    sink.close();
  }
}
