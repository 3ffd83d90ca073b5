import { type ClosedLoopResult, runClosedLoop } from '../closed-loop';
import type { E2eContext } from '../e2e-context';
import { type CpuSnapshot, cpuBetween, snapshotCpu } from '../process-cpu';

export interface ThroughputResult extends ClosedLoopResult {
  /** CPU ms each part of the stack used during the window. */
  cpuMs: Record<string, number>;
  /** The same per acknowledged order (null: nothing acknowledged). */
  cpuMsPerOrder: Record<string, number | null>;
  /** Every part but the bench itself, per acknowledged order. */
  stackCpuMsPerOrder: number | null;
}

export const BENCH_TARGET = 'bench (load generator)';

/**
 * Max throughput of POST /orders: a closed loop of `concurrency` callers after a warm-up; only
 * 201 answers count as acknowledged. CPU of every process is sampled as the window opens and
 * closes.
 */
export async function measureThroughput(ctx: E2eContext): Promise<ThroughputResult> {
  const { plan } = ctx;
  let before: CpuSnapshot = new Map();
  let after: CpuSnapshot = new Map();
  const loop = await runClosedLoop({
    concurrency: plan.concurrency,
    warmupMs: plan.warmupMs,
    durationMs: plan.throughputMs,
    send: async () => {
      const { headers, body } = ctx.nextOrder();
      return (await ctx.closedLoop.post('/orders', body, headers, plan.requestTimeoutMs)).outcome;
    },
    onWindowStart: () => {
      before = snapshotCpu(ctx.cpuTargets);
    },
    onWindowEnd: () => {
      after = snapshotCpu(ctx.cpuTargets);
    },
  });
  const cpuMs = cpuBetween(before, after);
  const perOrder = (ms: number) =>
    loop.acknowledged > 0 ? Math.round((ms / loop.acknowledged) * 100) / 100 : null;
  const stackMs = Object.entries(cpuMs)
    .filter(([name]) => name !== BENCH_TARGET)
    .reduce((sum, [, ms]) => sum + ms, 0);
  return {
    ...loop,
    cpuMs,
    cpuMsPerOrder: Object.fromEntries(
      Object.entries(cpuMs).map(([name, ms]) => [name, perOrder(ms)]),
    ),
    stackCpuMsPerOrder: perOrder(stackMs),
  };
}
