import { cpuBetween, cpuMs, parseStat } from './process-cpu';

describe('/proc/<pid>/stat', () => {
  it('reads the name and utime + stime, even with spaces and parentheses in the name', () => {
    const line =
      '4242 (postgres: 15/main (x)) S 2192 2192 2192 0 -1 4194560 1234 0 0 0 70 30 0 0 20 0 1 0 900 228454400 6000 18446744073709551615 1 1 0 0 0 0 4194304 19935232 84487 0 0 0 17 1 0 0 0 0 0';
    expect(parseStat(line)).toEqual({ name: 'postgres: 15/main (x)', ticks: 100 });
  });

  it('refuses a line it cannot read', () => {
    expect(parseStat('garbage')).toBeUndefined();
    expect(parseStat('1 (x) S 1 2')).toBeUndefined();
  });

  it('reads this very process', () => {
    expect(cpuMs(process.pid)).toBeGreaterThan(0);
  });
});

describe('CPU between snapshots', () => {
  it('subtracts per pid, counting a process that started in between whole', () => {
    const before = new Map([['postgres', new Map([[1, 100]])]]);
    const after = new Map([
      [
        'postgres',
        new Map([
          [1, 160],
          [2, 40],
        ]),
      ],
      ['redis', new Map([[3, 5]])],
    ]);
    expect(cpuBetween(before, after)).toEqual({ postgres: 100, redis: 5 });
  });
});
