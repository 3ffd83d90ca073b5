import { progressLine } from './replay-progress';

describe('replay progress line', () => {
  it('shows the share applied, rate, lag and ETA', () => {
    expect(progressLine(250n, 750n, 500)).toBe(
      '[######------------------]  25% · 250/1000 events · 500 ev/s · lag 750 · ETA 2s',
    );
  });
  it('is full with no lag, and unknown ETA before any rate is known', () => {
    expect(progressLine(10n, 0n, 0)).toContain('100% · 10/10 events · 0 ev/s · lag 0 · ETA 0s');
    expect(progressLine(0n, 10n, 0)).toContain('ETA ?');
  });
});
