import { describeCounts, OutcomeTally } from './outcome';

describe('outcome tally', () => {
  it('counts each status, timeout and error apart, in a stable order', () => {
    const tally = new OutcomeTally();
    for (const o of ['error', 503, 201, 'timeout', 201, 202, 500] as const) tally.add(o);
    expect(tally.total).toBe(7);
    expect(tally.count(201)).toBe(2);
    expect(tally.count(404)).toBe(0);
    expect(Object.keys(tally.toJSON())).toEqual(['201', '202', '500', '503', 'timeout', 'error']);
    expect(describeCounts(tally.toJSON())).toBe(
      '201: 2 · 202: 1 · 500: 1 · 503: 1 · timeout: 1 · error: 1',
    );
  });

  it('describes no outcome as none', () => {
    expect(describeCounts(new OutcomeTally().toJSON())).toBe('none');
  });
});
