import { CachedValue } from './cached-value';
import { partitionKey, pollUntil, relevantPositions, satisfies } from './consistency';

describe('consistency positions', () => {
  const topics = ['p.product.events', 'p.order.events'];

  it('keeps the positions of the consumed topics, the highest per partition', () => {
    expect(
      relevantPositions(
        [
          { topic: 'p.product.events', partition: 0, offset: '9' },
          { topic: 'p.product.events', partition: 0, offset: '12' },
          { topic: 'p.order.events', partition: 2, offset: '3' },
          { topic: 'p.saga.dlq', partition: 0, offset: '99' },
        ],
        topics,
      ),
    ).toEqual([
      { topic: 'p.product.events', partition: 0, offset: '12' },
      { topic: 'p.order.events', partition: 2, offset: '3' },
    ]);
  });

  it('is satisfied once every partition’s checkpoint is at or past the position (as bigints)', () => {
    const positions = [
      { topic: 'p.product.events', partition: 0, offset: '9007199254740993' },
      { topic: 'p.order.events', partition: 1, offset: '5' },
    ];
    const cp = (a: bigint, b?: bigint) =>
      new Map([
        [partitionKey('p.product.events', 0), a],
        ...(b === undefined ? [] : [[partitionKey('p.order.events', 1), b] as const]),
      ]);
    expect(satisfies(cp(9007199254740993n, 5n), positions)).toBe(true);
    expect(satisfies(cp(9007199254740992n, 5n), positions)).toBe(false);
    expect(satisfies(cp(9007199254740993n), positions)).toBe(false);
    expect(satisfies(new Map(), [])).toBe(true);
  });

  it('polls until a value comes, or gives up after the wait', async () => {
    let calls = 0;
    expect(await pollUntil(async () => (++calls >= 3 ? 'done' : undefined), 1000, 5)).toBe('done');
    const started = Date.now();
    expect(await pollUntil(async () => undefined, 60, 10)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    calls = 0;
    expect(await pollUntil(async () => (++calls > 0 ? undefined : 1), 0, 10)).toBeUndefined();
    expect(calls).toBe(1);
  });
});

describe('CachedValue', () => {
  it('reads again after the TTL or when asked for a fresh value, one read at a time', async () => {
    let now = 0;
    let value = 1;
    let reads = 0;
    const cached = new CachedValue(
      async () => {
        reads++;
        return value;
      },
      500,
      () => now,
    );
    expect(await Promise.all([cached.get(), cached.get()])).toEqual([1, 1]);
    expect(reads).toBe(1);
    value = 2;
    now = 499;
    expect(await cached.get()).toBe(1);
    now = 500;
    expect(await cached.get()).toBe(2);
    value = 3;
    expect(await cached.get(true)).toBe(3);
    expect(reads).toBe(3);
  });

  it('keeps the last value when a read fails, and fails when it never read one', async () => {
    let fail = false;
    const cached = new CachedValue(async () => {
      if (fail) throw new Error('down');
      return 7;
    }, 0);
    expect(await cached.get()).toBe(7);
    fail = true;
    expect(await cached.get()).toBe(7);
    const never = new CachedValue<number>(() => Promise.reject(new Error('down')), 0);
    await expect(never.get()).rejects.toThrow('down');
  });
});
