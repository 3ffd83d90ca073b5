import { performance } from 'node:perf_hooks';
import { type Outcome, type OutcomeCounts, OutcomeTally } from './outcome';
import { type LatencySummary, summarize } from './percentiles';

/**
 * Closed-loop load: `concurrency` callers, each sending its next request as soon as the last
 * is answered. After a warm-up, only answers that arrive inside the measured window count.
 */
export interface ClosedLoopOptions {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  send: () => Promise<Outcome>;
  /** Called as the measured window opens and closes (e.g. to sample CPU). */
  onWindowStart?: () => void;
  onWindowEnd?: () => void;
}

export interface ClosedLoopResult {
  concurrency: number;
  windowMs: number;
  outcomes: OutcomeCounts;
  latency: LatencySummary;
  /** 201 answers per second of the window. */
  acknowledgedPerSec: number;
  acknowledged: number;
}

export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const tally = new OutcomeTally();
  const latencies: number[] = [];
  const start = performance.now();
  const windowStart = start + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  let opened = false;
  let closed = false;
  const windowTimers = [
    setTimeout(() => {
      opened = true;
      o.onWindowStart?.();
    }, o.warmupMs),
    setTimeout(() => {
      closed = true;
      o.onWindowEnd?.();
    }, o.warmupMs + o.durationMs),
  ];

  const caller = async () => {
    while (performance.now() < windowEnd) {
      const sentAt = performance.now();
      const outcome = await o.send();
      const answeredAt = performance.now();
      if (answeredAt >= windowStart && answeredAt < windowEnd) {
        tally.add(outcome);
        latencies.push(
          typeof outcome !== 'number' ? Number.POSITIVE_INFINITY : answeredAt - sentAt,
        );
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: o.concurrency }, caller));
  } finally {
    for (const t of windowTimers) clearTimeout(t);
  }
  // Every caller may finish after the window (its last answer came late): close it anyway.
  if (!opened) o.onWindowStart?.();
  if (!closed) o.onWindowEnd?.();
  return {
    concurrency: o.concurrency,
    windowMs: o.durationMs,
    outcomes: tally.toJSON(),
    latency: summarize(latencies),
    acknowledged: tally.count(201),
    acknowledgedPerSec: tally.count(201) / (o.durationMs / 1000),
  };
}
