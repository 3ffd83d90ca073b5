import { performance } from 'node:perf_hooks';
import { type Outcome, type OutcomeCounts, OutcomeTally } from './outcome';
import { type LatencySummary, summarize } from './percentiles';

/**
 * Open-loop load at a fixed offered rate: request i is due at i/rate seconds, whatever the
 * answers to earlier ones. Its latency runs from when it was due, not from when it was sent,
 * so time spent waiting behind a slow system counts (no coordinated omission).
 */

/** When request `index` is due, in ms after the start. */
export function dueAtMs(index: number, ratePerSec: number): number {
  return (index * 1000) / ratePerSec;
}

/** How many requests are due `elapsedMs` after the start (request 0 is due at once). */
export function dueBy(elapsedMs: number, ratePerSec: number, planned: number): number {
  if (elapsedMs < 0) return 0;
  return Math.min(planned, Math.floor((elapsedMs * ratePerSec) / 1000) + 1);
}

/** Requests in a run of `durationMs` at `ratePerSec`. */
export function plannedRequests(ratePerSec: number, durationMs: number): number {
  return Math.max(1, Math.floor((ratePerSec * durationMs) / 1000));
}

export interface OpenLoopOptions {
  ratePerSec: number;
  durationMs: number;
  /** Past this many requests awaiting answers, a due request is not sent (counted as shed). */
  maxOutstanding: number;
  /** Longest a request may take, from when it was due; then it counts as unanswered. */
  timeoutMs: number;
  /** Sends one request with what is left of its time; resolves with its outcome. */
  send: (remainingMs: number) => Promise<Outcome>;
}

export interface OpenLoopResult {
  offeredPerSec: number;
  planned: number;
  sent: number;
  /** Due requests not sent because `maxOutstanding` were awaiting answers. */
  shed: number;
  outcomes: OutcomeCounts;
  /** Over every planned request; shed and unanswered ones rank as no answer. */
  latency: LatencySummary;
  /** Acknowledged (201) per second, from the first request due to the last answer. */
  acknowledgedPerSec: number;
  elapsedMs: number;
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const planned = plannedRequests(o.ratePerSec, o.durationMs);
  const tally = new OutcomeTally();
  const latencies: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let next = 0;
  let shed = 0;
  const start = performance.now();

  const fire = (index: number) => {
    const due = start + dueAtMs(index, o.ratePerSec);
    if (inFlight.size >= o.maxOutstanding) {
      shed += 1;
      latencies.push(Number.POSITIVE_INFINITY);
      return;
    }
    const request = o
      .send(o.timeoutMs - (performance.now() - due))
      .then((outcome) => {
        tally.add(outcome);
        latencies.push(
          typeof outcome !== 'number' ? Number.POSITIVE_INFINITY : performance.now() - due,
        );
      })
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  while (next < planned) {
    const due = dueBy(performance.now() - start, o.ratePerSec, planned);
    while (next < due) fire(next++);
    if (next < planned) {
      const wait = start + dueAtMs(next, o.ratePerSec) - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(wait, 10))));
    }
  }
  await Promise.all(inFlight);
  const elapsedMs = performance.now() - start;
  return {
    offeredPerSec: o.ratePerSec,
    planned,
    sent: planned - shed,
    shed,
    outcomes: tally.toJSON(),
    latency: summarize(latencies),
    acknowledgedPerSec: tally.count(201) / (elapsedMs / 1000),
    elapsedMs: Math.round(elapsedMs),
  };
}
