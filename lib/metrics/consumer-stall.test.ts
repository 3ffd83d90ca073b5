import type { PartitionLag } from './consumer-lag';
import { ConsumerStall } from './consumer-stall';

const row = (partition: number, position: bigint, end: bigint): PartitionLag => ({
  topic: 't',
  partition,
  position,
  end,
  lag: end - position,
});

describe('ConsumerStall', () => {
  it('calls a consumer stalled once records arrived and no position moved for the stall time', () => {
    const stall = new ConsumerStall(60_000);
    expect(stall.observe([row(0, 5n, 5n), row(1, 3n, 3n)], 0)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 9n), row(1, 3n, 3n)], 1000)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 12n), row(1, 3n, 3n)], 60_999)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 12n), row(1, 3n, 3n)], 61_000)).toEqual({
      lag: 7n,
      forMs: 60_000,
    });
  });

  it('never calls an idle group stalled for the commit markers its offsets stop before', () => {
    const stall = new ConsumerStall(1000);
    for (let t = 0; t < 10; t += 1) {
      expect(stall.observe([row(0, 90n, 91n), row(1, 164n, 166n)], t * 1000)).toBeUndefined();
    }
  });

  it('never calls a consumer stalled that keeps moving, however slowly', () => {
    const stall = new ConsumerStall(1000);
    for (let t = 0; t < 10; t += 1) {
      expect(stall.observe([row(0, BigInt(t), 100n + BigInt(t))], t * 900)).toBeUndefined();
    }
  });

  it('counts the stall time from the first record that waited, not from the last move', () => {
    const stall = new ConsumerStall(1000);
    stall.observe([row(0, 4n, 5n)], 0);
    // Idle for long, then a record arrives and is taken within the stall time.
    expect(stall.observe([row(0, 4n, 5n)], 50_000)).toBeUndefined();
    expect(stall.observe([row(0, 4n, 7n)], 50_500)).toBeUndefined();
    expect(stall.observe([row(0, 6n, 7n)], 51_200)).toBeUndefined();
    // Another arrives and is not taken.
    expect(stall.observe([row(0, 6n, 9n)], 52_000)).toBeUndefined();
    expect(stall.observe([row(0, 6n, 9n)], 52_999)).toBeUndefined();
    expect(stall.observe([row(0, 6n, 9n)], 53_000)).toEqual({ lag: 3n, forMs: 1000 });
  });

  it('starts afresh after a reset', () => {
    const stall = new ConsumerStall(1000);
    stall.observe([row(0, 4n, 4n)], 0);
    stall.observe([row(0, 4n, 6n)], 100);
    stall.reset();
    expect(stall.observe([row(0, 4n, 6n)], 5000)).toBeUndefined();
    expect(stall.observe([row(0, 4n, 8n)], 5500)).toBeUndefined();
    expect(stall.observe([row(0, 4n, 8n)], 6500)).toEqual({ lag: 4n, forMs: 1000 });
  });
});
