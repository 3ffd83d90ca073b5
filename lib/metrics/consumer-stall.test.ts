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
  it('calls a consumer stalled once it had lag and moved no position for the stall time', () => {
    const stall = new ConsumerStall(60_000);
    expect(stall.observe([row(0, 5n, 9n), row(1, 3n, 3n)], 0)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 12n), row(1, 3n, 3n)], 59_999)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 12n), row(1, 3n, 3n)], 60_000)).toEqual({
      lag: 7n,
      forMs: 60_000,
    });
  });

  it('never calls a consumer stalled that keeps moving, however slowly', () => {
    const stall = new ConsumerStall(1000);
    for (let t = 0; t < 10; t += 1) {
      expect(stall.observe([row(0, BigInt(t), 100n)], t * 900)).toBeUndefined();
    }
  });

  it('never calls a consumer stalled that has nothing to do', () => {
    const stall = new ConsumerStall(1000);
    for (let t = 0; t < 5; t += 1)
      expect(stall.observe([row(0, 4n, 4n)], t * 1000)).toBeUndefined();
  });

  it('counts the stall time from the last move, or from when lag appeared', () => {
    const stall = new ConsumerStall(1000);
    stall.observe([row(0, 4n, 4n)], 0);
    expect(stall.observe([row(0, 4n, 6n)], 5000)).toBeUndefined();
    expect(stall.observe([row(0, 4n, 6n)], 5999)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 6n)], 6500)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 6n)], 7499)).toBeUndefined();
    expect(stall.observe([row(0, 5n, 6n)], 7500)).toEqual({ lag: 1n, forMs: 1000 });
  });

  it('starts afresh after a reset', () => {
    const stall = new ConsumerStall(1000);
    stall.observe([row(0, 4n, 6n)], 0);
    stall.reset();
    expect(stall.observe([row(0, 4n, 6n)], 5000)).toBeUndefined();
    expect(stall.observe([row(0, 4n, 6n)], 6000)).toEqual({ lag: 2n, forMs: 1000 });
  });
});
