import { compareDecimal, compareText, mergePages } from '../../read-models/keyset';
import {
  decodeOrderCursor,
  decodeProductCursor,
  encodeOrderCursor,
  encodeProductCursor,
} from './cursor';

describe('keyset cursors', () => {
  it('round-trip, and are opaque base64url', () => {
    const p = encodeProductCursor({ priceAmount: '1299', productId: 'p-1' });
    expect(p).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeProductCursor(p)).toEqual({ priceAmount: '1299', productId: 'p-1' });
    const o = encodeOrderCursor({ placedAt: '2025-03-01T10:00:00.123456Z', orderId: 'o-1' });
    expect(decodeOrderCursor(o)).toEqual({
      placedAt: '2025-03-01T10:00:00.123456Z',
      orderId: 'o-1',
    });
  });

  it('refuse anything else, and one listing’s cursor in another listing', () => {
    const p = encodeProductCursor({ priceAmount: '1', productId: 'x' });
    const o = encodeOrderCursor({ placedAt: '2025-03-01T10:00:00.000000Z', orderId: 'x' });
    expect(decodeProductCursor(o)).toBeUndefined();
    expect(decodeOrderCursor(p)).toBeUndefined();
    for (const bad of [
      '',
      'nope!',
      'bm90IGpzb24',
      Buffer.from('{"k":"products","p":"-1","i":"x"}').toString('base64url'),
      Buffer.from('{"k":"products","p":"1","i":""}').toString('base64url'),
      Buffer.from('{"k":"orders","t":"2025-13-45T10:00:00.000000Z","i":"x"}').toString('base64url'),
      // No stored id holds NUL (lib/postgres-text.ts): a crafted one never reaches Postgres.
      Buffer.from('{"k":"products","p":"1","i":"a\\u0000b"}').toString('base64url'),
      Buffer.from('{"k":"orders","t":"2025-03-01T10:00:00.000000Z","i":"a\\u0000b"}').toString(
        'base64url',
      ),
    ]) {
      expect(decodeProductCursor(bad)).toBeUndefined();
      expect(decodeOrderCursor(bad)).toBeUndefined();
    }
  });
});

describe('mergePages', () => {
  const byNumber = (a: number, b: number) => a - b;

  it('takes the first `limit` of every shard’s page, and says whether there is more', () => {
    expect(mergePages([[1, 4, 7], [2, 5], [3]], 3, byNumber)).toEqual({
      rows: [1, 2, 3],
      more: true,
    });
    expect(mergePages([[1], [2], []], 3, byNumber)).toEqual({ rows: [1, 2], more: false });
    expect(mergePages([[1, 2], [3]], 3, byNumber)).toEqual({ rows: [1, 2, 3], more: false });
  });

  it('compares as Postgres does with collation "C" and bigint columns', () => {
    expect(['b', 'B', 'a', 'é', '\u{1F600}', '\uFFFD'].sort(compareText)).toEqual([
      'B',
      'a',
      'b',
      'é',
      '\uFFFD',
      '\u{1F600}',
    ]);
    expect(['10', '9', '100', '9007199254740993'].sort(compareDecimal)).toEqual([
      '9',
      '10',
      '100',
      '9007199254740993',
    ]);
  });
});
