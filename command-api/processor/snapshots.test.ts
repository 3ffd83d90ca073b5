import { gunzipSync } from 'node:zlib';
import { type PartitionSnapshot, snapshotRecords } from './snapshots';

const format = { kind: 'order', stateVersion: 1, schemaFingerprints: ['a'] };

/** A partition state of `count` aggregates, each with a remembered outcome. */
function stateOf(count: number): PartitionSnapshot {
  return {
    eventsEnd: BigInt(count),
    repliesEnd: 0n,
    aggregates: Array.from({ length: count }, (_, i) => [
      `o-${i}`,
      { state: { exists: true, orderId: `o-${i}`, status: 'confirmed' }, version: 3 },
    ]),
    holders: [],
    outcomes: [],
  };
}

describe('snapshot records', () => {
  it('are written and compressed a piece at a time: other work goes on meanwhile', async () => {
    let ranMeanwhile = false;
    setImmediate(() => {
      ranMeanwhile = true;
    });
    // Written and compressed in one go, the call would settle before any other callback ran.
    const records = await snapshotRecords('t.snapshots', 0, format, stateOf(20_000));
    expect(ranMeanwhile).toBe(true);
    expect(records.length).toBeGreaterThan(0);
  });

  it('hold the state, gzipped JSON cut into chunks in order', async () => {
    const state = stateOf(50_000);
    const records = await snapshotRecords('t.snapshots', 3, format, state);
    expect(records.length).toBeGreaterThan(1);
    expect(records.map((r) => [r.key, r.partition, r.headers?.['snapshot-chunk']])).toEqual(
      records.map((_, i) => [`order:${i}`, 3, String(i)]),
    );
    const body = JSON.parse(
      gunzipSync(Buffer.concat(records.map((r) => r.value as Buffer))).toString('utf8'),
    );
    expect(body.aggregates).toEqual(state.aggregates);
    expect(body.eventsEnd).toBe('50000');
  });
});
