import { growthByTopic, rangesBetween } from './log-offsets';

describe('log end offsets between two snapshots', () => {
  const before = new Map([
    ['p.order.events#0', 10n],
    ['p.order.events#1', 4n],
    ['p.order.replies#0', 0n],
  ]);
  const after = new Map([
    ['p.order.events#0', 13n],
    ['p.order.events#1', 4n],
    ['p.order.replies#0', 2n],
    ['p.saga.retry.1s#0', 1n], // not in the first snapshot: counted from 0
  ]);

  it('sums the growth of every partition per topic', () => {
    expect(growthByTopic(before, after)).toEqual(
      new Map([
        ['p.order.events', 3n],
        ['p.order.replies', 2n],
        ['p.saga.retry.1s', 1n],
      ]),
    );
  });

  it('reads only the partitions that grew, from the first snapshot to the second', () => {
    expect(rangesBetween(before, after)).toEqual([
      { topic: 'p.order.events', partition: 0, from: 10n, until: 13n },
      { topic: 'p.order.replies', partition: 0, from: 0n, until: 2n },
      { topic: 'p.saga.retry.1s', partition: 0, from: 0n, until: 1n },
    ]);
  });
});
