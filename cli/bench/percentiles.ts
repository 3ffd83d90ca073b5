/**
 * Latency percentiles by nearest rank. A request that got no answer (none in time, or the
 * connection failed) is recorded as Infinity, so it ranks above every answer: with more than
 * 1% unanswered, p99 is "no answer".
 */

export interface LatencySummary {
  /** Requests measured (answered or not). */
  count: number;
  /** Milliseconds; null: that rank is a request with no answer in time (or nothing measured). */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  /** Requests whose answer took longer than a second, or never came. */
  overOneSecond: number;
}

/** The value at percentile `p` (0 < p ≤ 100) of ascending `sorted`: nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

const finite = (ms: number): number | null =>
  Number.isFinite(ms) ? Math.round(ms * 10) / 10 : null;

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (p: number) => finite(percentile(sorted, p));
  return {
    count: sorted.length,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: at(100),
    overOneSecond: sorted.filter((ms) => ms > 1000).length,
  };
}
