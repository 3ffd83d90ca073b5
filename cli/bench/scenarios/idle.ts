import { sleep } from '../../../infra/process-control';
import type { E2eContext } from '../e2e-context';
import { cpuBetween, snapshotCpu } from '../process-cpu';
import { waitUntilQuiet } from '../quiet';
import { BENCH_TARGET } from './throughput';

export interface IdleResult {
  /** The stack had worked off the load before the idle window (else it was still busy). */
  quiet: boolean;
  waitedForQuietMs: number;
  windowMs: number;
  cores: number;
  /** CPU of each part as % of the whole machine (all cores = 100%). */
  machinePercent: Record<string, number>;
  /** The stack's parts together (the bench itself left out). */
  stackMachinePercent: number;
}

/** The stack's CPU when nothing is asked of it: after the load is worked off, for `idleMs`. */
export async function measureIdle(ctx: E2eContext, cores: number): Promise<IdleResult> {
  const quiet = await waitUntilQuiet(ctx.admin, ctx.topics, 3000, ctx.plan.drainMaxMs);
  const before = snapshotCpu(ctx.cpuTargets);
  const start = Date.now();
  await sleep(ctx.plan.idleMs);
  const after = snapshotCpu(ctx.cpuTargets);
  const windowMs = Date.now() - start;
  const percent = (ms: number) => Math.round((ms / (windowMs * cores)) * 10_000) / 100;
  const cpu = cpuBetween(before, after);
  const stackMs = Object.entries(cpu)
    .filter(([name]) => name !== BENCH_TARGET)
    .reduce((sum, [, ms]) => sum + ms, 0);
  return {
    quiet: quiet.quiet,
    waitedForQuietMs: quiet.waitedMs,
    windowMs,
    cores,
    machinePercent: Object.fromEntries(
      Object.entries(cpu).map(([name, ms]) => [name, percent(ms)]),
    ),
    stackMachinePercent: percent(stackMs),
  };
}
