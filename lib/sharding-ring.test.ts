import { randomUUID } from 'node:crypto';
import { ShardingRing } from './sharding-ring';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `customer-${i}`);

describe('ShardingRing', () => {
  it('spreads 100k keys over 4 shards, each within ±10% of an even share', () => {
    const ring = new ShardingRing(4);
    const counts = [0, 0, 0, 0];
    for (const key of KEYS) {
      const shard = ring.shardFor(key);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(25_000 * 0.9);
      expect(count).toBeLessThanOrEqual(25_000 * 1.1);
    }
  });

  it.each([2, 3, 5, 6, 8])('keeps every one of %i shards within ±10%% of an even share', (n) => {
    const ring = new ShardingRing(n);
    const counts = new Array<number>(n).fill(0);
    for (const key of KEYS) {
      const shard = ring.shardFor(key);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    const even = KEYS.length / n;
    for (const count of counts) expect(Math.abs(count / even - 1)).toBeLessThanOrEqual(0.1);
  });

  it('spreads random UUIDs evenly too', () => {
    const ring = new ShardingRing(4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 100_000; i++) {
      const shard = ring.shardFor(randomUUID());
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(25_000 * 0.9);
      expect(count).toBeLessThanOrEqual(25_000 * 1.1);
    }
  });

  it('moves only about 1/5 of the keys when a 5th shard is added, all of them to it', () => {
    const four = new ShardingRing(4);
    const five = new ShardingRing(5);
    let moved = 0;
    for (const key of KEYS) {
      const before = four.shardFor(key);
      const after = five.shardFor(key);
      if (before !== after) {
        moved++;
        expect(after).toBe(4);
      }
    }
    expect(moved / KEYS.length).toBeGreaterThanOrEqual(0.15);
    expect(moved / KEYS.length).toBeLessThanOrEqual(0.25);
  });

  it('maps the same key to the same shard every time, in every instance', () => {
    const a = new ShardingRing(4);
    const b = new ShardingRing(4);
    for (const key of KEYS.slice(0, 5000)) {
      const shard = a.shardFor(key);
      expect(a.shardFor(key)).toBe(shard);
      expect(b.shardFor(key)).toBe(shard);
    }
    // Pinned values: a change of hash or layout would silently move every customer's data.
    const pinned = ['customer-0', 'customer-1', 'customer-2', 'customer-3', 'p-42', 'c-7', ''];
    expect(pinned.map((k) => a.shardFor(k))).toEqual([1, 3, 1, 3, 1, 2, 0]);
  });

  it('names shards by index by default, so equal counts and equal names give equal rings', () => {
    const byCount = new ShardingRing(3);
    const byName = new ShardingRing(['shard-0', 'shard-1', 'shard-2']);
    expect(byCount.shards).toEqual(['shard-0', 'shard-1', 'shard-2']);
    expect(byCount.size).toBe(3);
    for (const key of KEYS.slice(0, 2000)) expect(byName.shardFor(key)).toBe(byCount.shardFor(key));
  });

  it('sends everything to the only shard of a one-shard ring', () => {
    const ring = new ShardingRing(1);
    expect(new Set(KEYS.slice(0, 1000).map((k) => ring.shardFor(k)))).toEqual(new Set([0]));
  });

  it('rejects an empty ring, duplicate names and a bad virtual node count', () => {
    expect(() => new ShardingRing(0)).toThrow(RangeError);
    expect(() => new ShardingRing(['a', 'a'])).toThrow(/unique/);
    expect(() => new ShardingRing(2, { virtualNodes: 0 })).toThrow(/virtualNodes/);
  });
});
