import { describeCounts, isFailure, OutcomeTally } from './outcome';

describe('outcome tally', () => {
  it('counts each status, timeout and error apart, in a stable order', () => {
    const tally = new OutcomeTally();
    for (const o of [
      'error:EPIPE',
      503,
      201,
      'timeout',
      201,
      202,
      'error:ECONNRESET',
      500,
    ] as const)
      tally.add(o);
    expect(tally.total).toBe(8);
    expect(tally.count(201)).toBe(2);
    expect(tally.count(404)).toBe(0);
    expect(Object.keys(tally.toJSON())).toEqual([
      '201',
      '202',
      '500',
      '503',
      'timeout',
      'error:ECONNRESET',
      'error:EPIPE',
    ]);
    expect(describeCounts(tally.toJSON())).toBe(
      '201: 2 · 202: 1 · 500: 1 · 503: 1 · timeout: 1 · error:ECONNRESET: 1 · error:EPIPE: 1',
    );
  });

  it('tells failures from answers and timeouts', () => {
    expect(isFailure('error:ECONNREFUSED')).toBe(true);
    expect(isFailure('timeout')).toBe(false);
    expect(isFailure(500)).toBe(false);
  });

  it('describes no outcome as none', () => {
    expect(describeCounts(new OutcomeTally().toJSON())).toBe('none');
  });
});
