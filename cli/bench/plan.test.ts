import { benchPlan, E2E_PARTS, PARTS, selectParts } from './plan';

describe('which parts a bench run measures', () => {
  it('runs everything by default', () => {
    expect([...selectParts(undefined)]).toEqual([...PARTS]);
    expect([...selectParts('')]).toEqual([...PARTS]);
  });

  it('takes raw, e2e and part names, comma-separated', () => {
    expect([...selectParts('raw')]).toEqual(['raw']);
    expect(new Set(selectParts('e2e'))).toEqual(new Set(E2E_PARTS));
    expect(new Set(selectParts('raw, flash-sale'))).toEqual(new Set(['raw', 'flash-sale']));
  });

  it('adds the throughput run that overload and idle build on', () => {
    expect(new Set(selectParts('overload'))).toEqual(new Set(['overload', 'throughput']));
    expect(new Set(selectParts('idle'))).toEqual(new Set(['idle', 'throughput']));
  });

  it('names unknown parts', () => {
    expect(() => selectParts('raw,speed,e2')).toThrow('--only: unknown part speed, e2');
  });
});

describe('durations', () => {
  it('--quick shortens every part, keeping the shape', () => {
    const full = benchPlan(false);
    const quick = benchPlan(true);
    expect(quick.raw.produceMessages).toBeLessThan(full.raw.produceMessages);
    expect(quick.e2e.throughputMs).toBeLessThan(full.e2e.throughputMs);
    expect(quick.e2e.flashBuyers).toBeLessThan(full.e2e.flashBuyers);
    expect(quick.e2e.rates).toEqual(full.e2e.rates);
    expect(full.e2e.flashUnits).toBe(100);
    expect(full.e2e.flashBuyers).toBe(10_000);
  });

  it('keeps a full run well under ten minutes of measuring and waiting', () => {
    const { raw, e2e } = benchPlan(false);
    const rawMs = 4 * raw.transactionMs * 2; // both adapters, plus the produce runs
    const e2eMs =
      e2e.warmupMs +
      e2e.throughputMs +
      e2e.idleMs +
      e2e.rates.length * e2e.rateMs +
      e2e.overloadMs +
      e2e.flashMaxMs +
      3 * e2e.drainMaxMs;
    expect(rawMs + e2eMs).toBeLessThan(9 * 60_000);
  });

  it('takes the concurrency and the number of flash-sale buyers from options', () => {
    const plan = benchPlan(true, { concurrency: 16, flashBuyers: 500 });
    expect(plan.e2e.concurrency).toBe(16);
    expect(plan.e2e.flashBuyers).toBe(500);
  });
});
