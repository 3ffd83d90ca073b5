import type { E2eContext } from '../e2e-context';
import { type OpenLoopResult, runOpenLoop } from '../open-loop';

export interface OfferedLoadResult extends OpenLoopResult {
  /** The bench's own CPU over the run, as % of one core (is the generator keeping up?). */
  loadGeneratorCorePercent: number;
}

/** POST /orders at a fixed offered rate for `durationMs` (open loop), with the bench's own CPU. */
export async function offerOrders(
  ctx: E2eContext,
  ratePerSec: number,
  durationMs: number,
): Promise<OfferedLoadResult> {
  const cpuBefore = process.cpuUsage();
  const result = await runOpenLoop({
    ratePerSec,
    durationMs,
    maxOutstanding: ctx.plan.maxOutstanding,
    timeoutMs: ctx.plan.requestTimeoutMs,
    send: async (remainingMs) => {
      const { headers, body } = ctx.nextOrder();
      return (await ctx.openLoop.post('/orders', body, headers, remainingMs)).outcome;
    },
  });
  const cpu = process.cpuUsage(cpuBefore);
  return {
    ...result,
    loadGeneratorCorePercent:
      Math.round(((cpu.user + cpu.system) / 1000 / result.elapsedMs) * 1000) / 10,
  };
}
