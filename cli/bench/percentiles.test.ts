import { percentile, summarize } from './percentiles';

describe('latency percentiles (nearest rank)', () => {
  it('picks the smallest value with at least p% of the values at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });

  it('is NaN for no values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it('sorts its input and counts answers over one second', () => {
    const s = summarize([1200, 5, 30, 10, 20]);
    expect(s).toEqual({ count: 5, p50: 20, p90: 1200, p99: 1200, max: 1200, overOneSecond: 1 });
  });

  it('ranks unanswered requests (Infinity) last and reports them as null', () => {
    const values = [...Array.from({ length: 97 }, () => 10), Infinity, Infinity, Infinity];
    const s = summarize(values);
    expect(s.p50).toBe(10);
    expect(s.p90).toBe(10);
    expect(s.p99).toBeNull(); // 3% never answered: the 99th percentile is "no answer"
    expect(s.max).toBeNull();
    expect(s.overOneSecond).toBe(3);
  });

  it('reports nothing measured as nulls', () => {
    expect(summarize([])).toEqual({
      count: 0,
      p50: null,
      p90: null,
      p99: null,
      max: null,
      overOneSecond: 0,
    });
  });
});
