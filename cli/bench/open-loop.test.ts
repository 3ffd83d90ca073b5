import { dueAtMs, dueBy, plannedRequests, runOpenLoop } from './open-loop';

describe('open-loop schedule', () => {
  it('spaces requests evenly at the offered rate', () => {
    expect(dueAtMs(0, 100)).toBe(0);
    expect(dueAtMs(1, 100)).toBe(10);
    expect(dueAtMs(250, 500)).toBe(500);
  });

  it('counts the requests due by a moment, request 0 at once, never more than planned', () => {
    expect(dueBy(-1, 100, 50)).toBe(0);
    expect(dueBy(0, 100, 50)).toBe(1);
    expect(dueBy(9.9, 100, 50)).toBe(1);
    expect(dueBy(10, 100, 50)).toBe(2);
    expect(dueBy(1000, 100, 50)).toBe(50);
  });

  it('plans rate × duration requests, at least one', () => {
    expect(plannedRequests(1000, 15_000)).toBe(15_000);
    expect(plannedRequests(3, 100)).toBe(1);
  });
});

describe('open-loop run (a fake target, no timing asserted)', () => {
  it('sends every planned request when answers come back at once', async () => {
    const r = await runOpenLoop({
      ratePerSec: 2000,
      durationMs: 50,
      maxOutstanding: 1000,
      timeoutMs: 1000,
      send: async () => 201,
    });
    expect(r.planned).toBe(100);
    expect(r.sent).toBe(100);
    expect(r.shed).toBe(0);
    expect(r.outcomes).toEqual({ '201': 100 });
    expect(r.latency.count).toBe(100);
  });

  it('sheds what is due while the outstanding cap is reached, and ranks it as no answer', async () => {
    const pending: (() => void)[] = [];
    const r = runOpenLoop({
      ratePerSec: 1000,
      durationMs: 20,
      maxOutstanding: 5,
      timeoutMs: 60_000,
      send: () => new Promise((resolve) => pending.push(() => resolve(202))),
    });
    // Answer everything once the schedule has run out.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const answer of pending) answer();
    const result = await r;
    expect(result.sent).toBe(5);
    expect(result.shed).toBe(result.planned - 5);
    expect(result.outcomes).toEqual({ '202': 5 });
    expect(result.latency.count).toBe(result.planned);
    expect(result.latency.max).toBeNull();
  });

  it('ranks a timed-out or failed request as no answer', async () => {
    for (const outcome of ['timeout', 'error:ECONNRESET'] as const) {
      const r = await runOpenLoop({
        ratePerSec: 100,
        durationMs: 10,
        maxOutstanding: 10,
        timeoutMs: 5,
        send: async () => outcome,
      });
      expect(r.outcomes).toEqual({ [outcome]: 1 });
      expect(r.latency.p50).toBeNull();
    }
  });

  it('gives each request the time left from when it was due', async () => {
    const left: number[] = [];
    await runOpenLoop({
      ratePerSec: 1000,
      durationMs: 5,
      maxOutstanding: 10,
      timeoutMs: 1000,
      send: async (remainingMs) => {
        left.push(remainingMs);
        return 201;
      },
    });
    expect(left).toHaveLength(5);
    for (const ms of left) {
      expect(ms).toBeLessThanOrEqual(1000);
      expect(ms).toBeGreaterThan(0);
    }
  });
});
